package io.transship.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A long-running process (registry, proxy, containerd) with stdout and stderr captured to one log
 * file. Every daemon started is remembered so that {@link DumpLogsOnFailure} can print its log.
 */
public final class Daemon implements AutoCloseable {
  static final List<Daemon> STARTED = new CopyOnWriteArrayList<>();
  private static final List<Daemon> ALL = new CopyOnWriteArrayList<>();

  static {
    // if the test JVM is stopped early (failsafe timeout, Ctrl-C), take the daemons with it
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () ->
                    ALL.stream()
                        .filter(Daemon::isAlive)
                        .forEach(d -> {
                          d.process.descendants().forEach(ProcessHandle::destroyForcibly);
                          d.process.destroyForcibly();
                        }),
                "e2e-daemon-reaper"));
  }

  private final String name;
  private final List<String> command;
  private final Path log;
  private final Process process;

  private Daemon(String name, List<String> command, Path log, Process process) {
    this.name = name;
    this.command = command;
    this.log = log;
    this.process = process;
  }

  /** Starts {@code command}, appending its output to {@code log}. */
  public static Daemon start(String name, List<String> command, Path log) {
    try {
      Files.createDirectories(log.getParent());
      ProcessBuilder pb = new ProcessBuilder(command);
      pb.redirectErrorStream(true);
      pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      Process p = pb.start();
      Daemon d = new Daemon(name, List.copyOf(command), log, p);
      STARTED.add(d);
      ALL.add(d);
      return d;
    } catch (IOException e) {
      throw new AssertionError(
          "cannot start " + name + " (" + command.getFirst() + "): " + e.getMessage(), e);
    }
  }

  public String name() {
    return name;
  }

  public Path log() {
    return log;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** The whole log (for small logs) or "" if it cannot be read. */
  public String logText() {
    try {
      return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      return "";
    }
  }

  /** Size of the log now, to read only what was written after this point later. */
  public long logMark() {
    try {
      return Files.exists(log) ? Files.size(log) : 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The log written since {@code mark}. */
  public String logSince(long mark) {
    try {
      byte[] all = Files.readAllBytes(log);
      int from = (int) Math.min(mark, all.length);
      return new String(all, from, all.length - from, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String tail(int lines) {
    List<String> all = logText().lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  /**
   * Polls {@code ready} (every 100 ms) until it is true, the process exits, or {@code timeout}
   * passes; fails with the log tail otherwise.
   */
  public void awaitReady(Duration timeout, BooleanSupplier ready) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError(
            name
                + " exited with code "
                + process.exitValue()
                + " before it was ready: "
                + String.join(" ", command)
                + "\n--- "
                + log
                + " (tail)\n"
                + tail(60));
      }
      try {
        if (ready.getAsBoolean()) {
          return;
        }
      } catch (RuntimeException e) {
        // not ready yet
      }
      sleep(100);
    }
    throw new AssertionError(
        name + " not ready within " + timeout + "\n--- " + log + " (tail)\n" + tail(60));
  }

  /** Sends SIGTERM and returns at once (graceful-shutdown tests). */
  public void terminate() {
    process.destroy();
  }

  /** Waits up to {@code timeout} for the process to exit; its exit code, or -1 if still running. */
  public int awaitExit(Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** SIGTERM, wait up to 15 s, then SIGKILL (the process and its descendants). */
  public void stop() {
    if (!process.isAlive()) {
      return;
    }
    List<ProcessHandle> kids = process.descendants().toList();
    process.destroy();
    try {
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        kids.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    kids.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
  }

  @Override
  public void close() {
    stop();
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  @Override
  public String toString() {
    return name + " (pid " + process.pid() + ", log " + log + ")";
  }
}
