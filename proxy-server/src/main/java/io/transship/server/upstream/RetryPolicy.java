package io.transship.server.upstream;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * When and how long to wait before retrying an idempotent upstream request: on connection errors,
 * 5xx and 429. Exponential backoff with jitter; a {@code Retry-After} in seconds (RFC 9110 section
 * 10.2.3) is honoured up to {@code maxDelay}.
 */
public record RetryPolicy(int maxAttempts, Duration baseDelay, Duration maxDelay) {

  public static RetryPolicy of(int maxAttempts) {
    return new RetryPolicy(maxAttempts, Duration.ofMillis(200), Duration.ofSeconds(10));
  }

  public static boolean retryableStatus(int status) {
    return status == 429 || status == 502 || status == 503 || status == 504 || status == 500;
  }

  /** The wait before attempt {@code attempt + 1} (attempt counts from 1). */
  public Duration delay(int attempt, String retryAfter) {
    if (retryAfter != null) {
      try {
        long seconds = Long.parseLong(retryAfter.trim());
        return min(Duration.ofSeconds(Math.max(0, seconds)), maxDelay);
      } catch (NumberFormatException ignored) {
        // an HTTP-date: fall back to backoff
      }
    }
    long base = baseDelay.toMillis() << Math.min(attempt - 1, 16);
    long jittered = base / 2 + ThreadLocalRandom.current().nextLong(base / 2 + 1);
    return min(Duration.ofMillis(jittered), maxDelay);
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
