package io.transship.e2e;

import java.util.Optional;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Prints the log tails of every {@link Daemon} started by the current test class when a test or a
 * {@code @BeforeAll}/{@code @AfterAll} method fails, so CI output shows what the registry, the
 * proxy and containerd said.
 */
public final class DumpLogsOnFailure
    implements BeforeAllCallback, TestWatcher, LifecycleMethodExecutionExceptionHandler {
  private static final int LINES = 150;

  @Override
  public void beforeAll(ExtensionContext context) {
    Daemon.STARTED.clear();
  }

  @Override
  public void testFailed(ExtensionContext context, Throwable cause) {
    dump(context.getDisplayName() + " failed");
  }

  @Override
  public void handleBeforeAllMethodExecutionException(ExtensionContext context, Throwable t)
      throws Throwable {
    dump(context.getDisplayName() + " @BeforeAll failed");
    throw t;
  }

  @Override
  public void handleAfterAllMethodExecutionException(ExtensionContext context, Throwable t)
      throws Throwable {
    dump(context.getDisplayName() + " @AfterAll failed");
    throw t;
  }

  @Override
  public void testDisabled(ExtensionContext context, Optional<String> reason) {}

  static void dump(String why) {
    StringBuilder sb = new StringBuilder();
    sb.append("\n======== ").append(why).append(": process logs ========\n");
    for (Daemon d : Daemon.STARTED) {
      sb.append("---- ")
          .append(d)
          .append(d.isAlive() ? " [running]" : " [exited]")
          .append(", last ")
          .append(LINES)
          .append(" lines\n")
          .append(d.tail(LINES))
          .append('\n');
    }
    sb.append("======== end of process logs ========\n");
    System.out.println(sb);
  }
}
