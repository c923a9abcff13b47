package io.transship.server.component;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.transship.server.StartupException;
import io.transship.server.Transship;
import io.transship.server.config.HostPort;
import io.transship.server.config.TransshipConfig;
import io.transship.server.testing.FakeUpstream;
import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A start that can't go on says what failed, where, and what to change, in one line — and a second
 * process on a storage root in use stops before touching it.
 */
class StartupErrorsTest {
  @TempDir Path root;
  FakeUpstream upstream;

  @BeforeEach
  void start() {
    upstream = FakeUpstream.start();
  }

  @AfterEach
  void stop() {
    upstream.close();
  }

  private TransshipConfig config(HostPort listen, HostPort admin, Path storage) {
    TransshipConfig base =
        ProxyHarness.config(upstream, storage, Duration.ofMinutes(1), null, null);
    return new TransshipConfig(
        listen,
        admin,
        base.storage(),
        base.tagTtl(),
        base.defaultUpstream(),
        base.upstreams(),
        base.conversion());
  }

  private static void assertOneLine(Throwable thrown, String... mustMention) {
    assertThat(thrown).isInstanceOf(StartupException.class);
    assertThat(thrown.getMessage()).doesNotContain("\n");
    for (String text : mustMention) {
      assertThat(thrown.getMessage()).contains(text);
    }
  }

  @Test
  void aTakenPortNamesTheAddressAndTheSettingToChange() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      HostPort busy = new HostPort("127.0.0.1", taken.getLocalPort());
      Throwable thrown =
          catchThrowable(() -> Transship.start(config(busy, new HostPort("127.0.0.1", 0), root)));

      assertOneLine(
          thrown,
          "listen 127.0.0.1:" + taken.getLocalPort(),
          "Address already in use",
          "TRANSSHIP_LISTEN");
    }
    // the failed start released the storage root: a new start works
    try (Transship ok =
        Transship.start(config(new HostPort("127.0.0.1", 0), new HostPort("127.0.0.1", 0), root))) {
      assertThat(ok.port()).isPositive();
    }
  }

  @Test
  void aTakenAdminPortNamesTheAdminSetting() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Throwable thrown =
          catchThrowable(() ->
              Transship.start(
                  config(
                      new HostPort("127.0.0.1", 0),
                      new HostPort("127.0.0.1", taken.getLocalPort()),
                      root)));

      assertOneLine(thrown, "admin.listen 127.0.0.1:", "TRANSSHIP_ADMIN__LISTEN");
    }
  }

  @Test
  void anUnresolvableListenHostIsNamed() {
    Throwable thrown =
        catchThrowable(() ->
            Transship.start(
                config(
                    new HostPort("no-such-host.invalid", 5000),
                    new HostPort("127.0.0.1", 0),
                    root)));

    assertOneLine(thrown, "cannot resolve host 'no-such-host.invalid'", "listen");
  }

  @Test
  void aStorageRootThatCannotBeADirectorySaysWhy() throws Exception {
    Path file = Files.writeString(root.resolve("plain-file"), "x");
    Throwable thrown =
        catchThrowable(() ->
            Transship.start(
                config(
                    new HostPort("127.0.0.1", 0),
                    new HostPort("127.0.0.1", 0),
                    file.resolve("data"))));

    assertOneLine(thrown, "storage root " + file.resolve("data"), "storage.filesystem.root");
  }

  /** A real second process, as an operator would start it by mistake. */
  @Test
  void aSecondProcessOnTheSameRootStopsWithExitTwoAndLeavesTmpAlone() throws Exception {
    try (Transship first =
        Transship.start(config(new HostPort("127.0.0.1", 0), new HostPort("127.0.0.1", 0), root))) {
      Path spool = Files.writeString(root.resolve(".tmp/download-in-progress.part"), "bytes");

      ProcessBuilder second =
          new ProcessBuilder(
              List.of(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-cp",
                  System.getProperty("java.class.path"),
                  "io.transship.server.Main",
                  "serve"));
      second.environment().put("TRANSSHIP_STORAGE__FILESYSTEM__ROOT", root.toString());
      second.environment().put("TRANSSHIP_LISTEN", "127.0.0.1:0");
      second.environment().put("TRANSSHIP_ADMIN__LISTEN", "127.0.0.1:0");
      second.redirectOutput(ProcessBuilder.Redirect.DISCARD);
      File err = root.resolveSibling(root.getFileName() + "-second.err").toFile();
      second.redirectError(err);
      Process process = second.start();
      boolean exited = process.waitFor(60, TimeUnit.SECONDS);
      if (!exited) {
        process.destroyForcibly();
      }

      assertThat(exited).isTrue();
      assertThat(process.exitValue()).isEqualTo(2);
      String message = Files.readString(err.toPath(), StandardCharsets.UTF_8).strip();
      assertThat(message)
          .doesNotContain("\n")
          .contains("storage root " + root)
          .contains("in use by another transship (pid " + ProcessHandle.current().pid() + ")");
      assertThat(spool).exists();
      Files.delete(err.toPath());
    }
  }
}
