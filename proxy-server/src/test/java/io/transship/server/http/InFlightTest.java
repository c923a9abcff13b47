package io.transship.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The request counter graceful shutdown waits on. */
class InFlightTest {
  @Test
  void countsRunningTasksAndWaitsForThemUpToTheDeadline() throws Exception {
    InFlight executor = new InFlight(Executors.newVirtualThreadPerTaskExecutor());
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    executor.execute(() -> {
      started.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(executor.running()).isEqualTo(1);
    // a deadline already passed: returns at once with the task still counted
    assertThat(executor.awaitIdle(System.nanoTime())).isEqualTo(1);

    release.countDown();
    assertThat(executor.awaitIdle(System.nanoTime() + TimeUnit.SECONDS.toNanos(10))).isZero();
    assertThat(executor.running()).isZero();
    executor.shutdown();
  }

  @Test
  void aFailingTaskIsNoLongerCounted() throws Exception {
    InFlight executor = new InFlight(Executors.newVirtualThreadPerTaskExecutor());
    executor.execute(() -> {
      throw new IllegalStateException("boom");
    });
    assertThat(executor.awaitIdle(System.nanoTime() + TimeUnit.SECONDS.toNanos(10))).isZero();
    executor.shutdown();
  }
}
