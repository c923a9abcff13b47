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

  private void check() throws StoreUnavailableException {
    String current = problem;
    if (!current.isEmpty()) {
      throw new StoreUnavailableException(current);
    }
  }

  private IOException failed(IOException e) {
    if (e instanceof NoSuchObjectException) {
      return e;
    }
    if (available()) {
      LOG.warn("storage unavailable ({}); serving pass-through until it recovers", e.getMessage());
      problem = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
    return e;
  }

  private RuntimeException failed(RuntimeException e) {
    if (available() && !(e instanceof IllegalArgumentException)) {
      LOG.warn("storage unavailable ({}); serving pass-through until it recovers", e.toString());
      problem = e.toString();
    }
    return e;
  }

  @Override
  public Optional<ObjectInfo> stat(String key) throws IOException {
    check();
    try {
      return delegate.stat(key);
    } catch (IOException e) {
      throw failed(e);
    } catch (RuntimeException e) {
      throw failed(e);
    }
  }

  @Override
  public InputStream open(String key, ByteRange range) throws IOException {
    check();
    try {
      return delegate.open(key, range);
    } catch (IOException e) {
      throw failed(e);
    } catch (RuntimeException e) {
      throw failed(e);
    }
  }

  @Override
  public ObjectWriter newWriter(String key) throws IOException {
    check();
    try {
      ObjectWriter writer = delegate.newWriter(key);
      return new ObjectWriter() {
        @Override
        public void write(byte[] buffer, int offset, int length) throws IOException {
          try {
            writer.write(buffer, offset, length);
          } catch (IOException e) {
            throw failed(e);
          }
        }

        @Override
        public long written() {
          return writer.written();
        }

        @Override
        public void commit() throws IOException {
          try {
            writer.commit();
          } catch (IOException e) {
            throw failed(e);
          }
        }

        @Override
        public void abort() {
          writer.abort();
        }
      };
    } catch (IOException e) {
      throw failed(e);
    }
  }

  @Override
  public void putFile(String key, Path file) throws IOException {
    check();
    try {
      delegate.putFile(key, file);
    } catch (IOException e) {
      throw failed(e);
    } catch (RuntimeException e) {
      throw failed(e);
    }
  }

  @Override
  public boolean putIfAbsent(String key, byte[] content) throws IOException {
    check();
    try {
      return delegate.putIfAbsent(key, content);
    } catch (IOException e) {
      throw failed(e);
    }
  }

  @Override
  public boolean delete(String key) throws IOException {
    check();
    try {
      return delegate.delete(key);
    } catch (IOException e) {
      throw failed(e);
    }
  }

  @Override
  public List<ObjectInfo> list(String prefix) throws IOException {
    check();
    try {
      return delegate.list(prefix);
    } catch (IOException e) {
      throw failed(e);
    }
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
