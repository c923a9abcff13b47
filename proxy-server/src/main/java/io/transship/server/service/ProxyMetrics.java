package io.transship.server.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.transship.server.upstream.RegistryClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Every metric transship exports, named in one place. Prometheus names follow its conventions: one
 * unit suffix ({@code _seconds}, {@code _bytes}), {@code _total} on counters; durations are
 * histograms with fixed buckets, so percentiles can be computed across replicas ({@code
 * histogram_quantile(0.99, sum by (le) (rate(..._bucket[5m])))}).
 *
 * <p>Families with labels are registered at zero for their usual label values when transship
 * starts, so every documented series exists before the first event (dashboards and alerts on {@code
 * rate()} see 0, not "no data"). docs/operations.md lists them; a test compares.
 */
public final class ProxyMetrics implements RegistryClient.UpstreamObserver {
  /** Client request durations: cache hits take milliseconds, cold pulls of large blobs minutes. */
  static final Duration[] REQUEST_BUCKETS =
      durations(
          0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300);

  /** Upstream exchange durations (headers; bodies stream afterwards). */
  static final Duration[] UPSTREAM_BUCKETS =
      durations(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60);

  /** Layer conversion durations: small layers in tens of ms, large ones minutes. */
  static final Duration[] CONVERSION_BUCKETS =
      durations(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600);

  private static final List<String> FORMATS = List.of("zstd", "estargz");

  private final MeterRegistry registry;
  private final Counter bytesServed;
  private final Counter digestMismatches;
  private final Counter evictions;
  private final Counter evictedBytes;
  // per-label meters, looked up once per combination instead of built on every event
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();

  public ProxyMetrics(MeterRegistry registry) {
    this.registry = registry;
    registerFromStart();
    this.bytesServed =
        Counter.builder("transship.served")
            .description("Body bytes sent to clients")
            .baseUnit("bytes")
            .register(registry);
    this.digestMismatches =
        Counter.builder("transship.upstream.digest.mismatches")
            .description("Upstream blobs or manifests whose bytes did not match their digest")
            .register(registry);
    this.evictions =
        Counter.builder("transship.cache.evictions")
            .description("Objects evicted from the local cache to stay under max-bytes")
            .register(registry);
    this.evictedBytes =
        Counter.builder("transship.cache.evicted")
            .description("Bytes evicted from the local cache")
            .baseUnit("bytes")
            .register(registry);
    registerAtZero();
  }

  /** The label sets every dashboard uses, present from the start. */
  private void registerAtZero() {
    for (String kind : List.of("blob", "manifest", "tag")) {
      for (String result : List.of("hit", "miss", "stale", "revalidated")) {
        if (!result.equals("revalidated") || kind.equals("tag")) {
          cacheCounter(kind, result);
        }
      }
    }
    for (String format : FORMATS) {
      conversionsStarted(format);
      conversionTimer(format);
      conversionBytes("in", format);
      conversionBytes("out", format);
      // the converter's expected refusals; other reasons appear with their first occurrence
      conversionsFailed(format, "DiffIdMismatchException");
      conversionsFailed(format, "UnsupportedLayerException");
      for (String outcome :
          List.of(
              "converted", "original", "deadline", "client-cannot-use", "storage-unavailable")) {
        conversionManifests(format, outcome);
      }
    }
    requestTimer("manifest", "GET", 200);
    requestTimer("blob", "GET", 200);
  }

  /** {@code transship_build_info{version, java} 1}: which build runs where. */
  public void buildInfo(String version) {
    Gauge.builder("transship.build.info", () -> 1)
        .description("Always 1; the labels name the running build")
        .tags("version", version, "java", Runtime.version().toString())
        .register(registry);
  }

  /** Gauges of the local cache (the filesystem store, or the disk cache in front of S3). */
  public void cache(Supplier<Number> sizeBytes, Supplier<Number> objects, long maxBytes) {
    Gauge.builder("transship.cache.size", sizeBytes)
        .description("Bytes held by the local cache")
        .baseUnit("bytes")
        .register(registry);
    Gauge.builder("transship.cache.objects", objects)
        .description("Objects held by the local cache (counted when max-bytes is set)")
        .register(registry);
    Gauge.builder("transship.cache.max", () -> maxBytes)
        .description("storage.filesystem.max-bytes (0 = unbounded)")
        .baseUnit("bytes")
        .register(registry);
  }

  /** An object left the local cache to make room. */
  public void evicted(long bytes) {
    evictions.increment();
    evictedBytes.increment(bytes);
  }

  /** Registers the per-upstream series of a configured upstream at zero. */
  public void upstream(String alias) {
    fetchedBytes(alias);
    upstreamTimer(alias, "manifest", 200);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** One finished client request. */
  public void request(String route, String rawMethod, int status, Duration elapsed) {
    requestTimer(route, knownMethod(rawMethod), status).record(elapsed);
  }

  private Timer requestTimer(String route, String method, int status) {
    return timers.computeIfAbsent(
        "request " + route + ' ' + method + ' ' + status,
        key ->
            Timer.builder("transship.requests")
                .description("Client requests by route, method and status")
                .tags("route", route, "method", method, "status", Integer.toString(status))
                .serviceLevelObjectives(REQUEST_BUCKETS)
                .register(registry));
  }

  /**
   * The method as a metric label: one of the RFC 9110 methods, else {@code other}, so clients can't
   * create label values (series) at will.
   */
  static String knownMethod(String method) {
    return switch (method) {
      case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT" -> method;
      default -> "other";
    };
  }

  public void bytesServed(long bytes) {
    bytesServed.increment(bytes);
  }

  /**
   * A cache lookup: {@code kind} is blob, manifest or tag; {@code result} is hit, miss, revalidated
   * (tag checked upstream, unchanged) or stale (a cached tag served because the upstream was
   * unreachable).
   */
  public void cache(String kind, String result) {
    RequestNotes.cache(result);
    cacheCounter(kind, result).increment();
  }

  private Counter cacheCounter(String kind, String result) {
    return counters.computeIfAbsent(
        "cache " + kind + ' ' + result,
        key ->
            Counter.builder("transship.cache.lookups")
                .description("Cache lookups by kind and result")
                .tags("kind", kind, "result", result)
                .register(registry));
  }

  /** A blob downloaded from upstream whose digest did not match: nothing was stored. */
  public void digestMismatch() {
    digestMismatches.increment();
  }

  /** Body bytes of blobs read from an upstream (resumed downloads count what was re-read). */
  public void upstreamFetched(String alias, long bytes) {
    if (bytes > 0) {
      fetchedBytes(alias).increment(bytes);
    }
  }

  private Counter fetchedBytes(String alias) {
    return counters.computeIfAbsent(
        "fetched " + alias,
        key ->
            Counter.builder("transship.upstream.fetched")
                .description("Blob bytes read from upstream registries")
                .baseUnit("bytes")
                .tag("upstream", alias)
                .register(registry));
  }

  /** A layer conversion began. */
  public void conversionStarted(String format) {
    conversionsStarted(format).increment();
  }

  private Counter conversionsStarted(String format) {
    return counters.computeIfAbsent(
        "started " + format,
        key ->
            Counter.builder("transship.conversions.started")
                .description("Layer conversions started")
                .tag("format", format)
                .register(registry));
  }

  /** A layer conversion finished: bytes read from the source layer and written converted. */
  public void conversionFinished(String format, Duration elapsed, long bytesIn, long bytesOut) {
    conversionTimer(format).record(elapsed);
    conversionBytes("in", format).increment(bytesIn);
    conversionBytes("out", format).increment(bytesOut);
  }

  private Timer conversionTimer(String format) {
    return timers.computeIfAbsent(
        "conversion " + format,
        key ->
            Timer.builder("transship.conversions")
                .description("Finished layer conversions and their duration")
                .tag("format", format)
                .serviceLevelObjectives(CONVERSION_BUCKETS)
                .register(registry));
  }

  private Counter conversionBytes(String direction, String format) {
    return counters.computeIfAbsent(
        "conversion " + direction + ' ' + format,
        key ->
            Counter.builder("transship.conversion." + direction)
                .description(
                    direction.equals("in")
                        ? "Compressed bytes of source layers converted"
                        : "Bytes of converted layers written")
                .baseUnit("bytes")
                .tag("format", format)
                .register(registry));
  }

  /** A layer conversion failed; the layer keeps its original form. */
  public void conversionFailed(String format, String reason) {
    conversionsFailed(format, reason).increment();
  }

  private Counter conversionsFailed(String format, String reason) {
    return counters.computeIfAbsent(
        "failed " + format + ' ' + reason,
        key ->
            Counter.builder("transship.conversions.failed")
                .description("Layer conversions that failed, by reason")
                .tags("format", format, "reason", reason)
                .register(registry));
  }

  /**
   * What a manifest request for a converted format got: {@code converted}, {@code original} (client
   * can't take it, or nothing convertible), or {@code deadline} (still converting).
   */
  public void conversionServed(String format, String outcome) {
    RequestNotes.format(outcome.equals("converted") ? format : "original");
    conversionManifests(format, outcome).increment();
  }

  private Counter conversionManifests(String format, String outcome) {
    return counters.computeIfAbsent(
        "manifests " + format + ' ' + outcome,
        key ->
            Counter.builder("transship.conversion.manifests")
                .description("Manifest requests for a converted format, by what was served")
                .tags("format", format, "outcome", outcome)
                .register(registry));
  }

  @Override
  public void exchanged(String upstream, String operation, int status, Duration elapsed) {
    RequestNotes.upstream(elapsed);
    upstreamTimer(upstream, operation, status).record(elapsed);
  }

  private Timer upstreamTimer(String upstream, String operation, int status) {
    return timers.computeIfAbsent(
        "upstream " + upstream + ' ' + operation + ' ' + status,
        key ->
            Timer.builder("transship.upstream.requests")
                .description(
                    "Upstream requests by upstream, operation and status (0 = no response)")
                .tags(
                    "upstream",
                    upstream,
                    "operation",
                    operation,
                    "status",
                    Integer.toString(status))
                .serviceLevelObjectives(UPSTREAM_BUCKETS)
                .register(registry));
  }

  /**
   * Series that only count rare events exist from the start, at zero, as docs/operations.md
   * promises: local storage errors, and client authentication (whose counters the authenticator
   * increments once authentication is configured).
   */
  private void registerFromStart() {
    Counter.builder("transship.storage.errors")
        .description("Local storage writes that failed (full disk, I/O errors), by operation")
        .tag("operation", "spool")
        .register(registry);
    Counter.builder("transship.auth.password.checks")
        .description("passwords checked against their hash (bcrypt); cached answers excluded")
        .register(registry);
    for (String reason : new String[] {"bad-password", "bad-token", "malformed"}) {
      Counter.builder("transship.auth.failures")
          .description("failed client authentications by reason")
          .tag("reason", reason)
          .register(registry);
    }
  }

  /**
   * Local storage failed (a full disk, typically): {@code operation} is what was being written.
   * Answered 503, never retried against the upstream.
   */
  public void storageError(String operation) {
    Counter.builder("transship.storage.errors")
        .description("Local storage writes that failed (full disk, I/O errors), by operation")
        .tag("operation", operation)
        .register(registry)
        .increment();
  }

  /** Registers a gauge read on every scrape. */
  public void gauge(String name, String description, Supplier<Number> value) {
    Gauge.builder(name, value).description(description).register(registry);
  }

  private static Duration[] durations(double... seconds) {
    Duration[] out = new Duration[seconds.length];
    for (int i = 0; i < seconds.length; i++) {
      out[i] = Duration.ofNanos((long) (seconds[i] * 1e9));
    }
    return out;
  }
}
