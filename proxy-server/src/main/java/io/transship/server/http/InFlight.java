package io.transship.server.http;

import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The request executor, counting the tasks it runs: every registry and admin request is served by
 * one task from start to the last byte written, so the count is the requests in flight that a
 * graceful shutdown waits for.
 */
final class InFlight extends AbstractExecutorService {
  private final ExecutorService delegate;
  private final Object lock = new Object();
  private int running;

  InFlight(ExecutorService delegate) {
    this.delegate = delegate;
  }

  @Override
  public void execute(Runnable task) {
    synchronized (lock) {
      running++;
    }
    try {
      delegate.execute(() -> {
        try {
          task.run();
        } finally {
          done();
        }
      });
    } catch (RuntimeException e) {
      done();
      throw e;
    }
  }

  private void done() {
    synchronized (lock) {
      running--;
      lock.notifyAll();
    }
  }

  /** Tasks running or queued now. */
  int running() {
    synchronized (lock) {
      return running;
    }
  }

  /**
   * Waits until no task runs or the deadline ({@link System#nanoTime()}) passes; returns how many
   * ran at the end.
   */
  int awaitIdle(long deadlineNanos) throws InterruptedException {
    synchronized (lock) {
      while (running > 0) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
          break;
        }
        TimeUnit.NANOSECONDS.timedWait(lock, left);
      }
      return running;
    }
  }

  @Override
  public void shutdown() {
    delegate.shutdown();
  }

  @Override
  public List<Runnable> shutdownNow() {
    return delegate.shutdownNow();
  }

  @Override
  public boolean isShutdown() {
    return delegate.isShutdown();
  }

  @Override
  public boolean isTerminated() {
    return delegate.isTerminated();
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    return delegate.awaitTermination(timeout, unit);
  }
}
