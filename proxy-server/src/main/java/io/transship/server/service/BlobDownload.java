package io.transship.server.service;

import io.transship.oci.ByteRange;
import io.transship.oci.Digest;
import io.transship.oci.ErrorCode;
import io.transship.oci.RegistryException;
import io.transship.server.reply.BodySink;
import io.transship.server.reply.RangeSource;
import io.transship.server.routing.Route;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One upstream download of a blob into a local spool file, shared by every client that asks for the
 * blob meanwhile. Readers follow the spool as it grows. The last byte is held back until the whole
 * blob has been verified against its digest, so no client ever receives a complete blob with wrong
 * content: on a mismatch every reader fails and nothing is stored.
 *
 * <p>State changes happen under one lock; {@link BlobDownloads} runs the download itself.
 */
final class BlobDownload {
  enum State {
    STARTING,
    STREAMING,
    DONE,
    FAILED
  }

  private final Digest digest;
  private final Path spool;

  /** {@link Route#describe()} of the request that started it: the repository it is fetched from. */
  private volatile String startedFor;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private State state = State.STARTING;
  private long size = -1;
  private long written;
  private boolean moved;
  private boolean verified;
  private RegistryException failure;

  BlobDownload(Digest digest, Path spool) {
    this.digest = digest;
    this.spool = spool;
  }

  Digest digest() {
    return digest;
  }

  Path spool() {
    return spool;
  }

  // ---- downloader side ----

  void started(long declaredSize) {
    update(() -> {
      size = declaredSize;
      state = State.STREAMING;
    });
  }

  void progressed(long totalWritten) {
    update(() -> written = totalWritten);
  }

  /** Stores the verified spool file. */
  interface Commit {
    /** Returns whether the blob was stored. */
    boolean store() throws IOException;
  }

  /**
   * Marks the spool verified first, so readers get the last byte at once, then runs {@code commit}
   * without the lock (an upload to S3 can take a while; readers must not wait for it), then marks
   * the download done; returns whether the blob was stored. A reader that opens the spool while
   * {@code commit} moves it finds it gone and reads the store instead ({@link #reader}).
   */
  boolean complete(Commit commit) {
    update(() -> {
      size = written;
      verified = true;
    });
    boolean stored;
    try {
      stored = commit.store();
    } catch (IOException e) {
      stored = false;
    }
    update(() -> {
      moved = !java.nio.file.Files.exists(spool);
      state = State.DONE;
    });
    return stored;
  }

  void failed(RegistryException error) {
    update(() -> {
      failure = error;
      state = State.FAILED;
    });
  }

  long written() {
    lock.lock();
    try {
      return written;
    } finally {
      lock.unlock();
    }
  }

  private void update(Runnable change) {
    lock.lock();
    try {
      change.run();
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  void startedFor(Route route) {
    this.startedFor = route.describe();
  }

  /** Whether this download fetches from {@code route}'s upstream repository. */
  boolean fetchedThrough(Route route) {
    return route.describe().equals(startedFor);
  }

  // ---- reader side ----

  /**
   * Waits until the blob's size is known (upstream headers arrived, or for a body without a length,
   * the download finished), and opens a reader; empty when the spool was already moved into the
   * store (read it from there).
   */
  Optional<RangeSource> reader() throws IOException {
    long knownSize;
    lock.lock();
    try {
      while (state == State.STARTING || (state == State.STREAMING && size < 0)) {
        awaitChange();
      }
      if (state == State.FAILED) {
        throw failure;
      }
      if (moved) {
        return Optional.empty();
      }
      knownSize = size;
      // opened under the lock: the spool can't be moved away in between
      try {
        FileChannel channel = FileChannel.open(spool, StandardOpenOption.READ);
        return Optional.of(new SpoolReader(channel, knownSize));
      } catch (java.nio.file.NoSuchFileException e) {
        return Optional.empty(); // finished and cleaned up meanwhile
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * The whole blob as a stream that follows the spool as it grows (for converting while
   * downloading); its last byte, like every reader's, comes only once the digest checked out, and a
   * failed download fails its reads with {@link SourceFailedException}. Empty when the spool was
   * already moved into the store (read it from there).
   */
  Optional<InputStream> stream() throws IOException {
    long knownSize;
    FileChannel channel;
    lock.lock();
    try {
      while (state == State.STARTING || (state == State.STREAMING && size < 0)) {
        awaitChange();
      }
      if (state == State.FAILED) {
        throw new SourceFailedException(failure.getMessage());
      }
      if (moved) {
        return Optional.empty();
      }
      knownSize = size;
      try {
        channel = FileChannel.open(spool, StandardOpenOption.READ);
      } catch (java.nio.file.NoSuchFileException e) {
        return Optional.empty();
      }
    } finally {
      lock.unlock();
    }
    return Optional.of(new SpoolStream(channel, knownSize));
  }

  /** A read of a download that failed: the source, not its content, is at fault (transient). */
  static final class SourceFailedException extends IOException {
    SourceFailedException(String message) {
      super("upstream download failed: " + message);
    }
  }

  /** A stream over the growing spool file. */
  private final class SpoolStream extends InputStream {
    private final FileChannel channel;
    private final long size;
    private long position;

    SpoolStream(FileChannel channel, long size) {
      this.channel = channel;
      this.size = size;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      if (position >= size) {
        return -1;
      }
      if (length == 0) {
        return 0;
      }
      long end;
      try {
        end = Math.min(readableEnd(position), size);
      } catch (IOException e) {
        throw new SourceFailedException(e.getMessage());
      }
      int n =
          channel.read(
              ByteBuffer.wrap(buffer, offset, (int) Math.min(length, end - position)), position);
      if (n < 0) {
        throw new SourceFailedException("spool of " + digest + " ended early");
      }
      position += n;
      return n;
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }

  /**
   * Blocks until the downloaded bytes are verified against the digest (true), or the download
   * failed (false); unlike {@link #awaitDone()} it does not wait for the store commit (an S3
   * upload).
   */
  boolean awaitVerified() {
    lock.lock();
    try {
      while (!verified && state != State.DONE && state != State.FAILED) {
        awaitChange();
      }
      return state != State.FAILED;
    } catch (IOException interrupted) {
      return false;
    } finally {
      lock.unlock();
    }
  }

  /** Blocks until the download finished: returns normally when stored, throws when it failed. */
  void awaitDone() {
    lock.lock();
    try {
      while (state != State.DONE && state != State.FAILED) {
        try {
          awaitChange();
        } catch (IOException e) {
          throw new RegistryException(ErrorCode.UNAVAILABLE, "interrupted");
        }
      }
      if (state == State.FAILED) {
        throw failure;
      }
    } finally {
      lock.unlock();
    }
  }

  private void awaitChange() throws IOException {
    try {
      changed.await(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for the upstream", e);
    }
  }

  /** Blocks until bytes before {@code end} (exclusive) beyond {@code position} may be read. */
  private long readableEnd(long position) throws IOException {
    lock.lock();
    try {
      while (true) {
        if (state == State.FAILED) {
          throw new IOException("upstream download failed: " + failure.getMessage(), failure);
        }
        // hold back the last byte until the digest checked out
        long readable = state == State.DONE || verified ? written : written - 1;
        if (readable > position) {
          return readable;
        }
        if (state == State.DONE) {
          throw new IOException("read past the end of " + digest);
        }
        awaitChange();
      }
    } finally {
      lock.unlock();
    }
  }

  /** A reader's view of the growing spool file. */
  private final class SpoolReader implements RangeSource {
    private final FileChannel channel;
    private final long size;

    SpoolReader(FileChannel channel, long size) {
      this.channel = channel;
      this.size = size;
    }

    @Override
    public long size() {
      return size;
    }

    @Override
    public void copy(ByteRange range, BodySink sink) throws IOException {
      ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
      long position = range.first();
      while (position <= range.last()) {
        long end = Math.min(readableEnd(position), range.last() + 1);
        buffer.clear().limit((int) Math.min(buffer.capacity(), end - position));
        int n = channel.read(buffer, position);
        if (n < 0) {
          throw new IOException("spool of " + digest + " ended early");
        }
        sink.write(buffer.array(), 0, n);
        position += n;
      }
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }

  static RegistryException mismatch(Digest expected, String actual) {
    return new RegistryException(
        ErrorCode.UPSTREAM_ERROR,
        "upstream sent bytes that do not match " + expected,
        "got " + actual);
  }
}
