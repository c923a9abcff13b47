package io.transship.server.service;

import io.transship.oci.Digest;
import io.transship.storage.ObjectStore;
import io.transship.storage.SmallObjects;
import io.transship.storage.StorageKeys;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cross-replica deduplication of layer conversions on shared storage: the replica that creates the
 * lease object (a conditional put, {@code If-None-Match: *} on S3) converts; the others poll the
 * conversion index until the result appears. The holder renews the lease every {@code TTL / 3}; a
 * lease not renewed for {@code TTL} (its replica died) is broken and taken over.
 *
 * <p>Failure modes, all harmless because conversion is deterministic: two replicas that break the
 * same expired lease at once may both convert (same bytes, one wasted effort); a replica that can't
 * reach storage converts without a lease; a waiter gives up after {@link #MAX_WAIT} and converts
 * itself.
 */
class ConversionLeases {
  static final ConversionLeases NONE = new ConversionLeases(null);
  static final Duration TTL = Duration.ofSeconds(60);
  static final Duration MAX_WAIT = Duration.ofMinutes(30);
  private static final Duration POLL = Duration.ofMillis(500);
  private static final Logger LOG = LoggerFactory.getLogger(ConversionLeases.class);

  private final ObjectStore store;
  private final SmallObjects objects;
  private final Duration ttl;
  private final String replica = replicaName();
  private final ScheduledExecutorService renewer =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("transship-lease-renewer").factory());

  ConversionLeases(ObjectStore store) {
    this(store, TTL);
  }

  ConversionLeases(ObjectStore store, Duration ttl) {
    this.ttl = ttl;
    this.store = store;
    this.objects = store == null ? null : new SmallObjects(store, 4096);
  }

  /**
   * Returns {@code done}'s result once present; otherwise runs {@code work} while holding the lease
   * of (settings, source), or waits for the replica holding it.
   */
  <T> T run(String settings, Digest source, Supplier<Optional<T>> done, Supplier<T> work) {
    if (store == null) {
      return done.get().orElseGet(work);
    }
    String key = StorageKeys.conversionLease(settings, source);
    long giveUp = System.nanoTime() + MAX_WAIT.toNanos();
    boolean announced = false;
    while (true) {
      Optional<T> finished = done.get();
      if (finished.isPresent()) {
        return finished.get();
      }
      try {
        if (store.putIfAbsent(key, lease())) {
          // check-then-act: the holder before us may have finished between our look and our put
          return holding(key, () -> done.get().orElseGet(work));
        }
        if (expired(key)) {
          LOG.info("lease {} expired; taking over the conversion of {}", key, source);
          store.delete(key);
          continue;
        }
      } catch (IOException | UnsupportedOperationException e) {
        LOG.warn("no lease for {} ({}); converting anyway", source, e.getMessage());
        return work.get();
      }
      if (!announced) {
        LOG.info("another replica converts {}; waiting for it", source);
        announced = true;
      }
      if (System.nanoTime() > giveUp) {
        return work.get();
      }
      try {
        Thread.sleep(POLL);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return work.get();
      }
    }
  }

  /**
   * Runs {@code work} while renewing the lease. Renewal and release exclude each other, and a
   * renewal that runs after the release writes nothing: a released lease is never resurrected.
   */
  private <T> T holding(String key, Supplier<T> work) {
    long period = ttl.toMillis() / 3;
    Object guard = new Object();
    boolean[] released = {false};
    ScheduledFuture<?> renewal =
        renewer.scheduleAtFixedRate(
            () -> {
              synchronized (guard) {
                if (released[0]) {
                  return;
                }
                try {
                  objects.putBytes(key, lease());
                } catch (IOException | RuntimeException e) {
                  // a throwing task would cancel every later renewal without a word
                  LOG.debug("cannot renew lease {}: {}", key, e.getMessage());
                }
              }
            },
            period,
            period,
            TimeUnit.MILLISECONDS);
    try {
      return work.get();
    } finally {
      renewal.cancel(false);
      synchronized (guard) {
        released[0] = true;
        try {
          store.delete(key);
        } catch (IOException e) {
          LOG.debug("cannot release lease {}: {}", key, e.getMessage());
        }
      }
    }
  }

  private byte[] lease() {
    long expires = System.currentTimeMillis() + ttl.toMillis();
    return (replica + " " + expires).getBytes(StandardCharsets.UTF_8);
  }

  private boolean expired(String key) throws IOException {
    Optional<String> text = objects.getText(key);
    if (text.isEmpty()) {
      return false; // released meanwhile: the next round tries again
    }
    String[] parts = text.get().trim().split(" ");
    try {
      return Long.parseLong(parts[parts.length - 1]) < System.currentTimeMillis();
    } catch (NumberFormatException e) {
      return true; // unreadable: treat as abandoned
    }
  }

  private static String replicaName() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      host = "unknown";
    }
    return host + "-" + UUID.randomUUID().toString().substring(0, 8);
  }
}
