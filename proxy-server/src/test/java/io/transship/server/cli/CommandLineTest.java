package io.transship.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.transship.server.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The command line behaves like the tools it sits beside: help, version, exit codes. */
class CommandLineTest {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(
      strings = {"", "serve", "config", "config check", "warm", "resolve", "convert", "version"})
  void everyCommandHasHelpAndExitsZero(String command) {
    String[] args = (command + " --help").trim().split(" ");

    CliRun run = CliRun.of(args);

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("Usage:").contains("--help").contains("--version");
  }

  @Test
  void bareTransshipPrintsUsageOnStderrAndExitsTwo() {
    CliRun run = CliRun.of();

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains("Usage:").contains("serve").contains("config");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void versionPrintsTheVersion() {
    assertThat(CliRun.of("version").out()).startsWith("transship ");
    assertThat(CliRun.of("serve", "--version").out()).startsWith("transship ");
  }

  @Test
  void configCheckRefusesATypoWithOneLineAndExitTwo() throws Exception {
    Path file = Files.writeString(dir.resolve("t.yaml"), "defualt-upstream: docker.io\n");

    CliRun run = CliRun.of("config", "check", "--config", file.toString());

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err().strip())
        .doesNotContain("\n")
        .contains("'defualt-upstream'")
        .contains(file.toString())
        .contains("did you mean 'default-upstream'");
  }

  @Test
  void configCheckRefusesABadValueAsServeWould() throws Exception {
    Path file = Files.writeString(dir.resolve("t.yaml"), "cache: { tag-ttl: soon }\n");

    CliRun run = CliRun.of("config", "check", "-c", file.toString());

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains("cache.tag-ttl");
  }

  @Test
  void configCheckPrintsTheEffectiveConfigWithSecretsMasked() throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("t.yaml"),
            """
            listen: 127.0.0.1:6000
            upstreams:
              lab: { url: "http://127.0.0.1:5000", username: robot, password: hunter2 }
            """);

    CliRun run = CliRun.of("config", "check", "--config", file.toString());

    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out())
        .contains("listen: 127.0.0.1:6000")
        .contains("username: robot")
        .contains("password: '********'")
        .contains("tag-ttl: 60s")
        .doesNotContain("hunter2");
  }

  @Test
  void anInvalidPlatformIsRefusedBeforeAnyRequest() {
    CliRun run =
        CliRun.of("warm", "--admin", "http://127.0.0.1:1", "--platform", "banana", "x/y:z");

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains("invalid --platform 'banana'").contains("linux/amd64");
  }

  @Test
  void anUnreachableAdminPortIsOneLine() {
    CliRun run = CliRun.of("resolve", "--admin", "http://127.0.0.1:1", "x/y:z");

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err().strip()).doesNotContain("\n").contains("127.0.0.1:1");
  }

  @Test
  void convertRefusesAFileThatIsNeitherGzipNorTar() throws Exception {
    Path junk = Files.writeString(dir.resolve("notes.txt"), "hello, this is not a layer\n");

    CliRun run = CliRun.of("convert", junk.toString(), dir.resolve("out").toString());

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains("neither a gzip nor a tar");
    assertThat(dir.resolve("out")).doesNotExist();
  }

  @Test
  void convertLevelFollowsTheConfigRange() throws Exception {
    Path layer = Files.write(dir.resolve("l.tar"), ConvertCommandTest.tar());

    CliRun run = CliRun.of("convert", "--level", "22", layer.toString(), "out");

    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains("between 1 and 19");
  }
}
