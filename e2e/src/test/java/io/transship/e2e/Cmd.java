package io.transship.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a short-lived command with a timeout, capturing stdout (as bytes) and stderr. */
public final class Cmd {
  private final List<String> args = new ArrayList<>();
  private final Map<String, String> env = new java.util.LinkedHashMap<>();
  private Duration timeout = Duration.ofMinutes(2);
  private Path dir;

  private Cmd(List<String> args) {
    this.args.addAll(args);
  }

  public static Cmd of(String... args) {
    return new Cmd(List.of(args));
  }

  public static Cmd of(List<String> args) {
    return new Cmd(args);
  }

  public Cmd timeout(Duration t) {
    this.timeout = t;
    return this;
  }

  public Cmd env(String k, String v) {
    env.put(k, v);
    return this;
  }

  public Cmd env(Map<String, String> m) {
    env.putAll(m);
    return this;
  }

  public Cmd dir(Path d) {
    this.dir = d;
    return this;
  }

  public List<String> args() {
    return List.copyOf(args);
  }

  /** The outcome of a finished command. */
  public record Result(
      List<String> args, int exitCode, byte[] stdoutBytes, String stderr, long ms) {
    public String stdout() {
      return new String(stdoutBytes, StandardCharsets.UTF_8);
    }

    public boolean ok() {
      return exitCode == 0;
    }

    /** Both streams, tail-truncated, for failure messages. */
    public String describe() {
      return "$ "
          + String.join(" ", args)
          + "\n  exit "
          + exitCode
          + " after "
          + ms
          + " ms\n  stdout: "
          + tail(stdout(), 4000)
          + "\n  stderr: "
          + tail(stderr, 4000);
    }

    /** Throws an AssertionError with both streams unless the command exited 0. */
    public Result assertOk() {
      if (exitCode != 0) {
        throw new AssertionError("command failed:\n" + describe());
      }
      return this;
    }
  }

  static String tail(String s, int max) {
    String t = s.strip();
    return t.length() <= max ? t : "..." + t.substring(t.length() - max);
  }

  /** Runs the command; fails (AssertionError) if it does not finish within the timeout. */
  public Result run() {
    Path out = null;
    Path err = null;
    try {
      out = Files.createTempFile("e2e-cmd-", ".out");
      err = Files.createTempFile("e2e-cmd-", ".err");
      ProcessBuilder pb = new ProcessBuilder(args);
      pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      pb.redirectOutput(out.toFile());
      pb.redirectError(err.toFile());
      pb.environment().putAll(env);
      if (dir != null) {
        pb.directory(dir.toFile());
      }
      long t0 = System.nanoTime();
      Process p = pb.start();
      boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      if (!done) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        throw new AssertionError(
            "command timed out after "
                + timeout
                + ":\n"
                + new Result(args, -1, Files.readAllBytes(out), Files.readString(err), ms)
                    .describe());
      }
      return new Result(args, p.exitValue(), Files.readAllBytes(out), Files.readString(err), ms);
    } catch (IOException e) {
      if (e.getMessage() != null && e.getMessage().contains("error=2")) {
        throw new AssertionError(
            "required program not found: " + args.getFirst() + " (bin/test installs it)", e);
      }
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while running " + args, e);
    } finally {
      deleteQuietly(out);
      deleteQuietly(err);
    }
  }

  /** Runs and asserts exit code 0. */
  public Result ok() {
    return run().assertOk();
  }

  private static void deleteQuietly(Path p) {
    if (p != null) {
      try {
        Files.deleteIfExists(p);
      } catch (IOException ignored) {
        // best effort
      }
    }
  }
}
