package io.transship.server.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RetryPolicyTest {

  private final RetryPolicy policy =
      new RetryPolicy(5, Duration.ofMillis(200), Duration.ofSeconds(10));

  @Test
  void retryAfterSecondsIsHonoured() {
    assertThat(policy.delay(1, "3")).isEqualTo(Duration.ofSeconds(3));
    assertThat(policy.delay(4, " 7 ")).isEqualTo(Duration.ofSeconds(7));
    assertThat(policy.delay(1, "0")).isEqualTo(Duration.ZERO);
  }

  @Test
  void retryAfterIsCappedAtMaxDelay() {
    assertThat(policy.delay(1, "3600")).isEqualTo(Duration.ofSeconds(10));
    assertThat(policy.delay(1, "10")).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void negativeRetryAfterMeansNoWait() {
    assertThat(policy.delay(1, "-5")).isEqualTo(Duration.ZERO);
  }

  @RepeatedTest(20)
  void retryAfterHttpDateFallsBackToBackoff() {
    Duration delay = policy.delay(1, "Wed, 21 Oct 2015 07:28:00 GMT");

    assertThat(delay).isBetween(Duration.ofMillis(100), Duration.ofMillis(200));
  }

  @RepeatedTest(20)
  void backoffGrowsExponentiallyWithJitterInTheUpperHalf() {
    for (int attempt = 1; attempt <= 6; attempt++) {
      long base = 200L << (attempt - 1);
      Duration delay = policy.delay(attempt, null);

      assertThat(delay.toMillis())
          .as("attempt %d", attempt)
          .isBetween(Math.min(base / 2, 10_000), Math.min(base, 10_000));
    }
  }

  @Test
  void backoffOfLaterAttemptsIsAtLeastTheEarlierMaximum() {
    // With jitter in [base/2, base], attempt n+1 is never below attempt n's upper bound.
    for (int i = 0; i < 50; i++) {
      assertThat(policy.delay(3, null)).isGreaterThanOrEqualTo(Duration.ofMillis(400));
      assertThat(policy.delay(2, null)).isLessThanOrEqualTo(Duration.ofMillis(400));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {7, 10, 17, 30, 64, 1000, Integer.MAX_VALUE})
  void backoffIsBoundedByMaxDelayForManyAttempts(int attempt) {
    for (int i = 0; i < 20; i++) {
      Duration delay = policy.delay(attempt, null);

      assertThat(delay).isPositive().isLessThanOrEqualTo(Duration.ofSeconds(10));
    }
  }

  @Test
  void backoffWithAHugeBaseDoesNotOverflow() {
    RetryPolicy slow = new RetryPolicy(3, Duration.ofDays(1), Duration.ofMinutes(1));

    for (int attempt = 1; attempt < 40; attempt++) {
      assertThat(slow.delay(attempt, null)).isEqualTo(Duration.ofMinutes(1));
    }
  }

  @Test
  void ofUsesTheDocumentedDefaults() {
    assertThat(RetryPolicy.of(4))
        .isEqualTo(new RetryPolicy(4, Duration.ofMillis(200), Duration.ofSeconds(10)));
  }

  @ParameterizedTest
  @ValueSource(ints = {429, 500, 502, 503, 504})
  void transientStatusesAreRetryable(int status) {
    assertThat(RetryPolicy.retryableStatus(status)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(ints = {200, 206, 301, 400, 401, 403, 404, 416, 501, 505})
  void otherStatusesAreNotRetryable(int status) {
    assertThat(RetryPolicy.retryableStatus(status)).isFalse();
  }
}
