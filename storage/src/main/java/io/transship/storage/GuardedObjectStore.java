package io.transship.storage;

import io.transship.oci.ByteRange;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches a remote store's health. The first failure that is not "no such object" marks the store
 * unavailable: from then on every call fails at once with {@link StoreUnavailableException} instead
 * of waiting for timeouts, so the proxy degrades to pass-through. A probe every {@code
 * probeInterval} brings it back as soon as the store answers again.
 */
public final class GuardedObjectStore implements ObjectStore, Presigning {
  private static final Logger LOG = LoggerFactory.getLogger(GuardedObjectStore.class);
  private static final String PROBE_KEY = "health/probe";

  private final ObjectStore delegate;
  private final ScheduledExecutorService prober =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("transship-storage-probe").factory());
  private volatile String problem = "";

  public GuardedObjectStore(ObjectStore delegate, Duration probeInterval) {
    this.delegate = delegate;
    long millis = probeInterval.toMillis();
    prober.scheduleWithFixedDelay(this::probe, millis, millis, TimeUnit.MILLISECONDS);
  }

  /** Whether the store answered its last call. */
  public boolean available() {
    return problem.isEmpty();
  }

  /** Empty when available, else what went wrong. */
  public String problem() {
    return problem;
  }

  private void probe() {
    if (available()) {
      return;
    }
    try {
      delegate.stat(PROBE_KEY);
      LOG.info("storage is reachable again; caching and conversion resume");
      problem = "";
    } catch (IOException | RuntimeException e) {
      LOG.debug("storage still unavailable: {}", e.getMessage());
    }
  }

  /** One call to the store. */
  @FunctionalInterface
  private interface Call<T> {
    T run() throws IOException;
  }

  /**
   * Runs {@code call} unless the store is known to be down; a failure other than "no such object"
   * (or a caller's invalid key) marks it down.
   */
  private <T> T guarded(Call<T> call) throws IOException {
    String current = problem;
    if (!current.isEmpty()) {
      throw new StoreUnavailableException(current);
    }
    try {
      return call.run();
    } catch (NoSuchObjectException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      if (!(e instanceof IllegalArgumentException) && available()) {
        LOG.warn("storage unavailable ({}); serving pass-through until it recovers", e.toString());
        problem = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      }
      throw e;
    }
  }

  @Override
  public Optional<ObjectInfo> stat(String key) throws IOException {
    return guarded(() -> delegate.stat(key));
  }

  @Override
  public InputStream open(String key, ByteRange range) throws IOException {
    return guarded(() -> delegate.open(key, range));
  }

  @Override
  public ObjectWriter newWriter(String key) throws IOException {
    ObjectWriter writer = guarded(() -> delegate.newWriter(key));
    return new ObjectWriter() {
      @Override
      public void write(byte[] buffer, int offset, int length) throws IOException {
        guarded(() -> {
          writer.write(buffer, offset, length);
          return null;
        });
      }

      @Override
      public long written() {
        return writer.written();
      }

      @Override
      public void commit() throws IOException {
        guarded(() -> {
          writer.commit();
          return null;
        });
      }

      @Override
      public void abort() {
        writer.abort();
      }
    };
  }

  @Override
  public void putFile(String key, Path file) throws IOException {
    guarded(() -> {
      delegate.putFile(key, file);
      return null;
    });
  }

  @Override
  public boolean putIfAbsent(String key, byte[] content) throws IOException {
    return guarded(() -> delegate.putIfAbsent(key, content));
  }

  @Override
  public boolean delete(String key) throws IOException {
    return guarded(() -> delegate.delete(key));
  }

  @Override
  public List<ObjectInfo> list(String prefix) throws IOException {
    return guarded(() -> delegate.list(prefix));
  }

  @Override
  public Optional<URI> presignGet(String key, Duration expiry) {
    return available() && delegate instanceof Presigning presigning
        ? presigning.presignGet(key, expiry)
        : Optional.empty();
  }

  @Override
  public void close() throws IOException {
    prober.shutdownNow();
    delegate.close();
  }
}
