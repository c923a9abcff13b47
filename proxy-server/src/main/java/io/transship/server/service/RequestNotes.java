package io.transship.server.service;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the services learned while serving one client request, for its access-log line: the cache
 * result, the format served and the time spent waiting for upstreams. The edge binds one per
 * request with {@link #runWith}; services never see it — {@link ProxyMetrics} notes what it counts
 * on the request's thread (downloads and conversions on their own threads note nothing).
 */
public final class RequestNotes {
  private static final ScopedValue<RequestNotes> CURRENT = ScopedValue.newInstance();

  private volatile String repository = "-";
  private String cache = "-";
  private String format = "-";
  private final AtomicLong upstreamNanos = new AtomicLong();
  private volatile boolean upstreamAsked;

  /** Runs {@code work} with these notes as the current request's. */
  public void runWith(Runnable work) {
    ScopedValue.where(CURRENT, this).run(work);
  }

  static void cache(String result) {
    if (CURRENT.isBound()) {
      CURRENT.get().noteCache(result);
    }
  }

  static void format(String served) {
    if (CURRENT.isBound()) {
      CURRENT.get().format = served;
    }
  }

  static void upstream(Duration elapsed) {
    if (CURRENT.isBound()) {
      RequestNotes notes = CURRENT.get();
      notes.upstreamAsked = true;
      notes.upstreamNanos.addAndGet(elapsed.toNanos());
    }
  }

  /** The most telling of several lookups (tag then manifest): stale > miss > revalidated > hit. */
  private synchronized void noteCache(String result) {
    if (rank(result) > rank(cache)) {
      cache = result;
    }
  }

  private static int rank(String result) {
    return switch (result) {
      case "stale" -> 4;
      case "miss" -> 3;
      case "revalidated" -> 2;
      case "hit" -> 1;
      default -> 0;
    };
  }

  /** The routed {@code alias/repository}, set by the edge once routing succeeded. */
  public void repository(String aliasAndRepository) {
    this.repository = aliasAndRepository;
  }

  public String repository() {
    return repository;
  }

  /** {@code hit}, {@code miss}, {@code revalidated}, {@code stale}, or {@code -} (no lookup). */
  public synchronized String cache() {
    return cache;
  }

  /** The layer format of a manifest served ({@code zstd}, {@code original}, ...), or {@code -}. */
  public String format() {
    return format;
  }

  /** Milliseconds spent in upstream exchanges on this request's thread, or -1 when none. */
  public long upstreamMillis() {
    return upstreamAsked ? upstreamNanos.get() / 1_000_000 : -1;
  }
}
