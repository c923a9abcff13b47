package io.transship.server.cli;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Progress of a stream of known length on stderr. On a terminal: a one-line bar redrawn five times
 * a second. Otherwise (CI logs, files): no {@code \r} redraws, one plain line per 10%.
 */
final class ProgressBar implements AutoCloseable {
  private final String label;
  private final long total;
  private final AtomicLong done = new AtomicLong();
  private final long started = System.nanoTime();
  private final PrintStream out = System.err;
  private final Thread painter;
  private final boolean interactive;
  private int lastTenth = -1;
  private volatile boolean running = true;

  ProgressBar(String label, long total) {
    this(label, total, isTerminal());
  }

  ProgressBar(String label, long total, boolean interactive) {
    this.label = label.length() > 19 ? label.substring(0, 19) : label;
    this.total = total;
    this.interactive = interactive;
    this.painter =
        Thread.ofVirtual()
            .start(() -> {
              while (running) {
                paint(false);
                try {
                  Thread.sleep(200);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
  }

  /** stderr is a terminal (JDK 22+: a console exists even when redirected; ask it). */
  static boolean isTerminal() {
    java.io.Console console = System.console();
    return console != null && console.isTerminal();
  }

  /** Wraps {@code in} so that bytes read advance the bar. */
  InputStream track(InputStream in) {
    return new FilterInputStream(in) {
      @Override
      public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
          done.incrementAndGet();
        }
        return b;
      }

      @Override
      public int read(byte[] buffer, int offset, int length) throws IOException {
        int n = super.read(buffer, offset, length);
        if (n > 0) {
          done.addAndGet(n);
        }
        return n;
      }
    };
  }

  private synchronized void paint(boolean last) {
    long bytes = done.get();
    double seconds = Math.max(1e-3, (System.nanoTime() - started) / 1e9);
    int percent = total > 0 ? (int) Math.min(100, bytes * 100 / total) : 0;
    if (!interactive) {
      int tenth = last ? 10 : percent / 10;
      if (tenth > lastTenth && (tenth > 0 || last)) {
        lastTenth = tenth;
        out.printf(
            "%s %3d%% %.1f/%.1f MB %.0f MB/s%n",
            label, last ? percent : tenth * 10, bytes / 1e6, total / 1e6, bytes / 1e6 / seconds);
        out.flush();
      } else if (lastTenth < 0) {
        lastTenth = 0;
      }
      return;
    }
    int filled = percent / 5;
    out.printf(
        "\r%s [%s%s] %3d%% %.1f/%.1f MB %.0f MB/s%s",
        label,
        "#".repeat(filled),
        " ".repeat(20 - filled),
        percent,
        bytes / 1e6,
        total / 1e6,
        bytes / 1e6 / seconds,
        last ? System.lineSeparator() : "");
    out.flush();
  }

  @Override
  public void close() {
    running = false;
    painter.interrupt();
    paint(true);
  }
}
