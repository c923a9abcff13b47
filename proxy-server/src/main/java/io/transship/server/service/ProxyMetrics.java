package io.transship.server.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.transship.server.upstream.RegistryClient;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * Every metric transship exports, named in one place (Prometheus names get {@code _total} and
 * {@code _seconds} suffixes from Micrometer).
 */
public final class ProxyMetrics implements RegistryClient.UpstreamObserver {
  private final MeterRegistry registry;
  private final Counter bytesServed;

  public ProxyMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.bytesServed =
        Counter.builder("transship.bytes.served")
            .description("Body bytes sent to clients")
            .baseUnit("bytes")
            .register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** One finished client request. */
  public void request(String route, String method, int status, Duration elapsed) {
    Timer.builder("transship.requests")
        .description("Client requests by route, method and status")
        .tags("route", route, "method", method, "status", Integer.toString(status))
        .register(registry)
        .record(elapsed);
  }

  public void bytesServed(long bytes) {
    bytesServed.increment(bytes);
  }

  /**
   * A cache lookup: {@code kind} is blob, manifest or tag; {@code result} is hit, miss, or stale (a
   * cached tag served because the upstream was unreachable).
   */
  public void cache(String kind, String result) {
    Counter.builder("transship.cache.lookups")
        .description("Cache lookups by kind and result")
        .tags("kind", kind, "result", result)
        .register(registry)
        .increment();
  }

  /** A blob downloaded from upstream whose digest did not match: nothing was stored. */
  public void digestMismatch() {
    Counter.builder("transship.upstream.digest.mismatches")
        .description("Upstream blobs or manifests whose bytes did not match their digest")
        .register(registry)
        .increment();
  }

  @Override
  public void exchanged(String upstream, String operation, int status, Duration elapsed) {
    Timer.builder("transship.upstream.requests")
        .description("Upstream requests by upstream, operation and status (0 = no response)")
        .tags("upstream", upstream, "operation", operation, "status", Integer.toString(status))
        .register(registry)
        .record(elapsed);
  }

  /** Registers a gauge read on every scrape. */
  public void gauge(String name, String description, Supplier<Number> value) {
    io.micrometer.core.instrument.Gauge.builder(name, value)
        .description(description)
        .register(registry);
  }
}
