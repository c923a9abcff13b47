package io.transship.server.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where connection limits report: the counter {@code transship_connections_rejected_total{listener,
 * reason}} and at most one warning per listener and reason every {@value #WARN_EVERY_SECONDS}
 * seconds, with the number of trips since the previous one (a flood must not flood the log).
 */
final class ConnectionEvents {
  private static final Logger LOG = LoggerFactory.getLogger(ConnectionEvents.class);
  static final long WARN_EVERY_SECONDS = 10;

  private final MeterRegistry registry;
  private final String listener;
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> lastWarn = new ConcurrentHashMap<>();
  private final Map<String, AtomicLong> sinceWarn = new ConcurrentHashMap<>();

  ConnectionEvents(MeterRegistry registry, String listener) {
    this.registry = registry;
    this.listener = listener;
    registerReasons();
  }

  /** Registers the open-connections gauge of this listener. */
  void openConnections(Supplier<Number> open) {
    Gauge.builder("transship.connections.open", open)
        .description("Open client connections by listener")
        .tag("listener", listener)
        .register(registry);
  }

  private Counter counter(String reason) {
    return counters.computeIfAbsent(
        reason,
        r ->
            Counter.builder("transship.connections.rejected")
                .description("Connections or requests refused by a connection limit, by reason")
                .tags("listener", listener, "reason", r)
                .register(registry));
  }

  /** Every reason's counter exists from the start (at zero), as the docs promise. */
  private void registerReasons() {
    for (String reason :
        new String[] {
          "max-connections",
          "max-per-address",
          "header-timeout",
          "request-line-too-long",
          "headers-too-large"
        }) {
      counter(reason);
    }
  }

  /**
   * A limit tripped: {@code reason} is {@code max-connections}, {@code max-per-address}, {@code
   * header-timeout}, {@code request-line-too-long} or {@code headers-too-large}.
   */
  void rejected(String reason, Object client, String what) {
    counter(reason).increment();
    long trips = sinceWarn.computeIfAbsent(reason, r -> new AtomicLong()).incrementAndGet();
    AtomicLong last = lastWarn.computeIfAbsent(reason, r -> new AtomicLong());
    long now = System.nanoTime();
    long previous = last.get();
    if ((previous == 0 || now - previous >= WARN_EVERY_SECONDS * 1_000_000_000L)
        && last.compareAndSet(previous, now == 0 ? 1 : now)) {
      sinceWarn.get(reason).addAndGet(-trips);
      LOG.warn(
          "{} listener: {} ({} time(s) in the last {}s; latest from {})",
          listener,
          what,
          trips,
          WARN_EVERY_SECONDS,
          client);
    }
  }
}
