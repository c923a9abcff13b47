package io.transship.server.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.transship.server.upstream.RegistryClient;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Every metric transship exports, named in one place (Prometheus names get {@code _total} and
 * {@code _seconds} suffixes from Micrometer).
 */
public final class ProxyMetrics implements RegistryClient.UpstreamObserver {
  private final MeterRegistry registry;
  private final Counter bytesServed;
  // per-request meters, looked up once per tag combination instead of built on every request
  private final Map<String, Timer> requestTimers = new ConcurrentHashMap<>();
  private final Map<String, Counter> cacheCounters = new ConcurrentHashMap<>();

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
    requestTimers
        .computeIfAbsent(
            route + ' ' + method + ' ' + status,
            key ->
                Timer.builder("transship.requests")
                    .description("Client requests by route, method and status")
                    .tags("route", route, "method", method, "status", Integer.toString(status))
                    .register(registry))
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
    RequestNotes.cache(result);
    cacheCounters
        .computeIfAbsent(
            kind + ' ' + result,
            key ->
                Counter.builder("transship.cache.lookups")
                    .description("Cache lookups by kind and result")
                    .tags("kind", kind, "result", result)
                    .register(registry))
        .increment();
  }

  /** A blob downloaded from upstream whose digest did not match: nothing was stored. */
  public void digestMismatch() {
    Counter.builder("transship.upstream.digest.mismatches")
        .description("Upstream blobs or manifests whose bytes did not match their digest")
        .register(registry)
        .increment();
  }

  /** A layer conversion began. */
  public void conversionStarted(String format) {
    Counter.builder("transship.conversions.started")
        .description("Layer conversions started")
        .tag("format", format)
        .register(registry)
        .increment();
  }

  /** A layer conversion finished: bytes read from the source layer and written converted. */
  public void conversionFinished(String format, Duration elapsed, long bytesIn, long bytesOut) {
    Timer.builder("transship.conversions")
        .description("Finished layer conversions and their duration")
        .tag("format", format)
        .register(registry)
        .record(elapsed);
    Counter.builder("transship.conversion.bytes.in")
        .description("Compressed bytes of source layers converted")
        .baseUnit("bytes")
        .tag("format", format)
        .register(registry)
        .increment(bytesIn);
    Counter.builder("transship.conversion.bytes.out")
        .description("Bytes of converted layers written")
        .baseUnit("bytes")
        .tag("format", format)
        .register(registry)
        .increment(bytesOut);
    Counter.builder("transship.conversion.bytes.saved")
        .description("Source bytes minus converted bytes (negative when conversion grew a layer)")
        .baseUnit("bytes")
        .tag("format", format)
        .register(registry)
        .increment(bytesIn - bytesOut);
  }

  /** A layer conversion failed; the layer keeps its original form. */
  public void conversionFailed(String format, String reason) {
    Counter.builder("transship.conversions.failed")
        .description("Layer conversions that failed, by reason")
        .tags("format", format, "reason", reason)
        .register(registry)
        .increment();
  }

  /**
   * What a manifest request for a converted format got: {@code converted}, {@code original} (client
   * can't take it, or nothing convertible), or {@code deadline} (still converting).
   */
  public void conversionServed(String format, String outcome) {
    RequestNotes.format(outcome.equals("converted") ? format : "original");
    Counter.builder("transship.conversion.manifests")
        .description("Manifest requests for a converted format, by what was served")
        .tags("format", format, "outcome", outcome)
        .register(registry)
        .increment();
  }

  @Override
  public void exchanged(String upstream, String operation, int status, Duration elapsed) {
    RequestNotes.upstream(elapsed);
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
