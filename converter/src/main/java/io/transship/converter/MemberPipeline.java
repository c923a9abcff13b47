package io.transship.converter;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Compresses gzip members on a fixed number of threads and writes them in submission order.
 *
 * <p>Members are independent (each one is a complete gzip member, RFC 1952 section 2.2), so they
 * can be compressed in any order and on any thread: the output is the same bytes for every thread
 * count. At most {@code 2 × threads} members are in flight; {@link #submit} blocks the producer
 * until the oldest is written, so memory is bounded by the member size times that, never by the
 * layer. With one thread everything runs on the caller's thread.
 */
final class MemberPipeline implements AutoCloseable {

  private static final AtomicInteger POOLS = new AtomicInteger();

  /** Buffers smaller than this are cheap to allocate and not kept. */
  private static final int REUSE_MIN = 256 * 1024;

  private final OutputStream out;
  private final int maxInFlight;
  private final ExecutorService executor;
  private final BlockingQueue<GzipMemberEncoder> encoders;
  private final GzipMemberEncoder inline;
  private final Deque<Pending> inFlight = new ArrayDeque<>();

  /** Member buffers to reuse (producer thread only): chunk-sized arrays are not garbage. */
  private final Deque<byte[]> spare = new ArrayDeque<>();

  private long[] offsets = new long[1024];
  private byte[][] prefixDigests = new byte[1024][];
  private int submitted;
  private int written;
  private long position;

  MemberPipeline(DeflateBackend backend, int level, int threads, OutputStream out) {
    this.out = out;
    this.maxInFlight = 2 * threads;
    if (threads == 1) {
      this.executor = null;
      this.encoders = null;
      this.inline = backend.newEncoder(level);
    } else {
      this.inline = null;
      this.encoders = new ArrayBlockingQueue<>(threads);
      try {
        for (int i = 0; i < threads; i++) {
          encoders.add(backend.newEncoder(level));
        }
      } catch (RuntimeException e) {
        encoders.forEach(GzipMemberEncoder::close);
        throw e;
      }
      this.executor = Executors.newFixedThreadPool(threads, daemonThreads());
    }
  }

  /**
   * Queues {@code data[0, length)} as the next member; the array must not be touched afterwards.
   *
   * @return the member's index (0, 1, 2, ... in submission order)
   */
  int submit(byte[] data, int length) throws IOException {
    return submit(data, length, 0);
  }

  /**
   * Like {@link #submit(byte[], int)}, and also hashes (SHA-256) the member's first {@code
   * hashedPrefix} bytes on the compressing thread, for {@link #prefixDigestOf}: chunk digests then
   * cost the reading thread nothing.
   */
  int submit(byte[] data, int length, int hashedPrefix) throws IOException {
    int index = submitted++;
    if (executor == null) {
      write(new Encoded(inline.encode(data, 0, length), sha256(data, hashedPrefix)));
      recycle(data);
      return index;
    }
    while (inFlight.size() >= maxInFlight) {
      writeOldest();
    }
    inFlight.add(new Pending(executor.submit(() -> compress(data, length, hashedPrefix)), data));
    return index;
  }

  /** A submitted member being compressed, and its buffer, reusable once it has been written. */
  private record Pending(Future<Encoded> future, byte[] data) {}

  /**
   * A buffer of at least {@code minLength} bytes for a future member: one whose member has been
   * written, when there is one big enough, else a new one. Reusing them keeps the allocation rate,
   * and with it the heap the JVM grows to, independent of the layer's size: without it every chunk
   * is a new multi-MiB (for G1, humongous) array.
   */
  byte[] buffer(int minLength) {
    for (var it = spare.iterator(); it.hasNext(); ) {
      byte[] candidate = it.next();
      if (candidate.length >= minLength) {
        it.remove();
        return candidate;
      }
    }
    int rounded = (int) Math.min(Integer.MAX_VALUE - 16, ((minLength + 0xFFFFL) & ~0xFFFFL));
    return new byte[Math.max(minLength, rounded)];
  }

  private void recycle(byte[] data) {
    if (data.length >= REUSE_MIN && spare.size() < maxInFlight + 2) {
      spare.push(data);
    }
  }

  /** The SHA-256 of member {@code index}'s hashed prefix; known once it has been written. */
  byte[] prefixDigestOf(int index) {
    if (index >= written || prefixDigests[index] == null) {
      throw new IllegalStateException("member " + index + " has no hashed prefix written");
    }
    return prefixDigests[index];
  }

  /** A compressed member and, when asked for, the digest of its uncompressed prefix. */
  private record Encoded(byte[] member, byte[] prefixDigest) {}

  private static byte[] sha256(byte[] data, int length) {
    if (length == 0) {
      return null;
    }
    java.security.MessageDigest hash = io.transship.oci.Digest.newSha256();
    hash.update(data, 0, length);
    return hash.digest();
  }

  /** Index the next submitted member will get. */
  int nextIndex() {
    return submitted;
  }

  /** Waits for and writes every submitted member. */
  void drain() throws IOException {
    while (!inFlight.isEmpty()) {
      writeOldest();
    }
  }

  /** Compressed offset of member {@code index}; known once it has been written. */
  long offsetOf(int index) {
    if (index >= written) {
      throw new IllegalStateException("member " + index + " not written yet");
    }
    return offsets[index];
  }

  /** Bytes written so far. */
  long position() {
    return position;
  }

  /** Writes bytes that are not a compressed member (the footer) after everything submitted. */
  void writeRaw(byte[] bytes) throws IOException {
    drain();
    out.write(bytes);
    position += bytes.length;
  }

  private Encoded compress(byte[] data, int length, int hashedPrefix) throws InterruptedException {
    byte[] digest = sha256(data, hashedPrefix);
    GzipMemberEncoder encoder = encoders.take();
    try {
      return new Encoded(encoder.encode(data, 0, length), digest);
    } finally {
      encoders.add(encoder);
    }
  }

  private void writeOldest() throws IOException {
    Pending oldest = inFlight.removeFirst();
    try {
      write(oldest.future().get());
      recycle(oldest.data());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while compressing");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof UncheckedIOException unchecked) {
        throw unchecked.getCause();
      }
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (cause instanceof Error error) {
        throw error;
      }
      throw new IOException("compressing a gzip member failed", cause);
    }
  }

  private void write(Encoded encoded) throws IOException {
    if (written == offsets.length) {
      offsets = Arrays.copyOf(offsets, offsets.length * 2);
      prefixDigests = Arrays.copyOf(prefixDigests, prefixDigests.length * 2);
    }
    prefixDigests[written] = encoded.prefixDigest();
    offsets[written++] = position;
    out.write(encoded.member());
    position += encoded.member().length;
  }

  @Override
  public void close() {
    if (executor != null) {
      executor.shutdownNow();
      try {
        executor.awaitTermination(1, TimeUnit.MINUTES);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      // every task has ended, so every encoder is back in the queue
      GzipMemberEncoder encoder;
      while ((encoder = encoders.poll()) != null) {
        encoder.close();
      }
    } else {
      inline.close();
    }
  }

  private static ThreadFactory daemonThreads() {
    int pool = POOLS.incrementAndGet();
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, "estargz-" + pool + "-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
