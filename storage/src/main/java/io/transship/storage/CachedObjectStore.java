package io.transship.storage;

import io.transship.oci.ByteRange;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A shared remote store (S3) with a size-bounded local disk cache in front, for keys whose content
 * never changes (content-addressed blobs and manifests). The remote store is the source of truth:
 * writes go there first; mutable keys (tag records, the conversion index, leases) always go
 * straight to it, so every replica sees the same state.
 *
 * <p>Reads of a cacheable key come from the local cache when present (and then zero-copy, via
 * {@link LocalFiles}); on a miss they stream from the remote store while one background copy per
 * key fills the cache, so the next read is local. A filled object named after a digest ({@link
 * StorageKeys#contentDigest}) is committed to the cache only when its bytes hash to that digest:
 * the cache never holds what the remote store did not verifiably hold.
 */
public final class CachedObjectStore implements ObjectStore, LocalFiles, Presigning {
  private static final Logger LOG = LoggerFactory.getLogger(CachedObjectStore.class);

  private final ObjectStore remote;
  private final LocalObjectStore local;
  private final Predicate<String> cacheable;
  private final Map<String, Boolean> filling = new ConcurrentHashMap<>();
  private final ExecutorService fillers = Executors.newVirtualThreadPerTaskExecutor();

  public CachedObjectStore(
      ObjectStore remote, LocalObjectStore local, Predicate<String> cacheable) {
    this.remote = remote;
    this.local = local;
    this.cacheable = cacheable;
  }

  /** Content-addressed keys: {@code blobs/} and {@code manifests/}. */
  public static boolean immutableKey(String key) {
    return key.startsWith("blobs/") || key.startsWith("manifests/");
  }

  public ObjectStore remote() {
    return remote;
  }

  public LocalObjectStore local() {
    return local;
  }

  @Override
  public Optional<ObjectInfo> stat(String key) throws IOException {
    if (cacheable.test(key)) {
      Optional<ObjectInfo> cached = local.stat(key);
      if (cached.isPresent()) {
        return cached;
      }
    }
    return remote.stat(key);
  }

  @Override
  public InputStream open(String key, ByteRange range) throws IOException {
    if (!cacheable.test(key)) {
      return remote.open(key, range);
    }
    if (local.stat(key).isPresent()) {
      try {
        return local.open(key, range);
      } catch (NoSuchObjectException evictedMeanwhile) {
        // fall through to the remote store
      }
    }
    if (range == null || range.first() == 0) {
      // a read of the whole object fills the cache as it goes: S3 sends the bytes once
      Optional<ObjectInfo> info = remote.stat(key);
      if (info.isEmpty()) {
        throw new NoSuchObjectException(key);
      }
      long size = info.get().size();
      boolean whole = range == null || range.last() >= size - 1;
      if (whole && filling.putIfAbsent(key, Boolean.TRUE) == null) {
        try {
          // the local writer first: when the disk can't take it, no remote stream is left open
          VerifyingCacheWriter cache = new VerifyingCacheWriter(key, local.newWriter(key));
          InputStream in;
          try {
            in = remote.open(key, range);
          } catch (IOException | RuntimeException e) {
            cache.abort();
            throw e;
          }
          return new CachingInputStream(in, cache, size, () -> filling.remove(key));
        } catch (IOException | RuntimeException e) {
          filling.remove(key);
          throw e;
        }
      }
    }
    fill(key);
    return remote.open(key, range);
  }

  /** Passes a whole remote object through while writing it into the cache; commits at its end. */
  private static final class CachingInputStream extends java.io.FilterInputStream {
    private final VerifyingCacheWriter cache;
    private final long size;
    private final Runnable done;
    private boolean finished;

    CachingInputStream(InputStream in, VerifyingCacheWriter cache, long size, Runnable done) {
      super(in);
      this.cache = cache;
      this.size = size;
      this.done = done;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      int n = super.read(buffer, offset, length);
      if (finished) {
        return n;
      }
      try {
        if (n > 0) {
          cache.write(buffer, offset, n);
        }
        if (cache.written() == size) {
          cache.commit(); // complete: readers often stop at the size without reading EOF
          end();
        }
      } catch (IOException e) {
        LOG.debug("cache write failed: {}", e.getMessage());
        end(); // the client's stream goes on; the cache is just not filled
      }
      return n;
    }

    private void end() {
      if (!finished) {
        finished = true;
        cache.abort(); // no-op after commit
        done.run();
      }
    }

    @Override
    public void close() throws IOException {
      try {
        super.close();
      } finally {
        end();
      }
    }
  }

  /**
   * A cache writer that hashes what it writes and commits only when the bytes match the digest the
   * key is named after (keys without one are committed as written).
   */
  private static final class VerifyingCacheWriter implements AutoCloseable {
    private final String key;
    private final ObjectWriter writer;
    private final Optional<io.transship.oci.Digest> expected;
    private final java.security.MessageDigest hasher;

    VerifyingCacheWriter(String key, ObjectWriter writer) {
      this.key = key;
      this.writer = writer;
      this.expected = StorageKeys.contentDigest(key);
      this.hasher = expected.map(io.transship.oci.Digest::newHasher).orElse(null);
    }

    void write(byte[] buffer, int offset, int length) throws IOException {
      writer.write(buffer, offset, length);
      if (hasher != null) {
        hasher.update(buffer, offset, length);
      }
    }

    long written() {
      return writer.written();
    }

    void commit() throws IOException {
      if (hasher != null && !expected.get().matches(hasher.digest())) {
        writer.abort();
        throw new IOException("remote object " + key + " does not match its digest; not cached");
      }
      writer.commit();
    }

    void abort() {
      writer.abort();
    }

    @Override
    public void close() {
      writer.abort();
    }
  }

  @Override
  public Optional<Path> localFile(String key) {
    return cacheable.test(key) ? local.localFile(key) : Optional.empty();
  }

  /** Copies {@code key} into the local cache in the background, once however often asked. */
  private void fill(String key) {
    if (filling.putIfAbsent(key, Boolean.TRUE) != null) {
      return;
    }
    fillers.execute(() -> {
      try (InputStream in = remote.open(key, null);
          VerifyingCacheWriter writer = new VerifyingCacheWriter(key, local.newWriter(key))) {
        byte[] buffer = new byte[64 * 1024];
        for (int n; (n = in.read(buffer)) > 0; ) {
          writer.write(buffer, 0, n);
        }
        writer.commit();
      } catch (IOException e) {
        LOG.debug("cache fill of {} failed: {}", key, e.getMessage());
      } finally {
        filling.remove(key);
      }
    });
  }

  @Override
  public ObjectWriter newWriter(String key) throws IOException {
    return remote.newWriter(key);
  }

  /** Uploads {@code file} to the remote store, then keeps it in the local cache (a rename). */
  @Override
  public void putFile(String key, Path file) throws IOException {
    if (!cacheable.test(key)) {
      remote.putFile(key, file);
      return;
    }
    Path copy = file.resolveSibling(file.getFileName() + ".upload");
    try {
      Files.createLink(copy, file); // the remote store consumes its argument
    } catch (IOException | UnsupportedOperationException e) {
      Files.copy(file, copy);
    }
    try {
      remote.putFile(key, copy);
    } finally {
      Files.deleteIfExists(copy);
    }
    local.putFile(key, file);
  }

  @Override
  public boolean putIfAbsent(String key, byte[] content) throws IOException {
    return remote.putIfAbsent(key, content);
  }

  @Override
  public boolean delete(String key) throws IOException {
    local.delete(key);
    return remote.delete(key);
  }

  @Override
  public List<ObjectInfo> list(String prefix) throws IOException {
    return remote.list(prefix);
  }

  @Override
  public Optional<java.net.URI> presignGet(String key, java.time.Duration expiry) {
    return remote instanceof Presigning presigning
        ? presigning.presignGet(key, expiry)
        : Optional.empty();
  }

  @Override
  public void close() throws IOException {
    fillers.shutdownNow();
    local.close();
    remote.close();
  }
}
