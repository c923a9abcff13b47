package io.transship.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Strict configuration: the typos users made in the field (issue 11) stop the start with one line
 * naming the key, the file and the nearest valid key, instead of being silently ignored.
 */
class StrictConfigTest {
  @TempDir Path dir;

  private Path write(String yaml) throws IOException {
    Path file = dir.resolve("transship.yaml");
    Files.writeString(file, yaml);
    return file;
  }

  private static void assertOneLine(Throwable thrown, String... mustMention) {
    assertThat(thrown).isInstanceOf(ConfigException.class);
    assertThat(thrown.getMessage()).doesNotContain("\n");
    for (String text : mustMention) {
      assertThat(thrown.getMessage()).contains(text);
    }
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "upstreams: { lab: { url: 'http://r:5000', fromat: none } } | upstreams.lab.fromat"
            + " | upstreams.lab.format",
        "defualt-upstream: docker.io | defualt-upstream | default-upstream",
        "storage: { filesystem: { max-byte: 1GiB } } | storage.filesystem.max-byte"
            + " | storage.filesystem.max-bytes",
        "storage: { cache: { root: /var/cache } } | storage.cache.root | storage.filesystem.root",
        "storage: { s3: { access-key: AKIA } } | storage.s3.access-key"
            + " | storage.s3.access-key-id",
        "upstreams: { docker.io: { usrname: me } } | upstreams.docker.io.usrname"
            + " | upstreams.docker.io.username",
        "conversion: { zstd-levle: 5 } | conversion.zstd-levle | conversion.zstd-level",
        "upstream-defaults: { formt: none } | upstream-defaults.formt | upstream-defaults.format",
      })
  void unknownKeyInTheFileNamesKeyFileAndNearestKey(String yaml, String typed, String nearest)
      throws IOException {
    Path file = write(yaml);

    Throwable thrown = catchThrowable(() -> ConfigLoader.load(file, Map.of()));

    assertOneLine(thrown, "'" + typed + "'", file.toString(), "did you mean '" + nearest);
  }

  @Test
  void unknownKeyInAPrefetchEntryIsAnError() throws IOException {
    Path file =
        write("conversion: { estargz: { prefetch: [ { match: 'docker.io/*', file: [a] } ] } }\n");

    assertOneLine(
        catchThrowable(() -> ConfigLoader.load(file, Map.of())),
        "'file'",
        "conversion.estargz.prefetch");
  }

  @Test
  void aSectionGivenAsAValueIsAnError() throws IOException {
    Path file = write("storage: /var/lib/transship\n");

    assertOneLine(
        catchThrowable(() -> ConfigLoader.load(file, Map.of())), "storage", "section", "e.g.");
  }

  @Test
  void knownKeysOfEveryShapeAreAccepted() throws IOException {
    Path file =
        write(
            """
            log: { format: json }
            upstreams:
              lab:
                url: http://127.0.0.1:5000
                hosts: [lab]
                username: u
                password: p
                ca-file: /etc/ca.pem
                format: none
                max-attempts: 2
              gcr.io: null
            conversion: { estargz: { prefetch: [ { match: "lab/*", files: [bin/sh] } ] } }
            """);

    TransshipConfig config = ConfigLoader.load(file, Map.of());

    assertThat(config.upstreams()).containsKey("lab").doesNotContainKey("gcr.io");
  }

  @ParameterizedTest
  @CsvSource({
    "TRANSSHIP_LISTN, TRANSSHIP_LISTEN",
    "TRANSSHIP_STORAGE__FILESYSTEM__MAX_BYTE, TRANSSHIP_STORAGE__FILESYSTEM__MAX_BYTES",
    "TRANSSHIP_DEFAULT_UPSTREEM, TRANSSHIP_DEFAULT_UPSTREAM",
    "TRANSSHIP_LOG_LEVL, TRANSSHIP_LOG_LEVEL",
    "TRANSSHIP_UPSTREAMS__DOCKER_IO__USERNAM, TRANSSHIP_UPSTREAMS__DOCKER_IO__USERNAME",
  })
  void unknownVariableNamesItAndTheNearestVariable(String variable, String nearest) {
    Throwable thrown = catchThrowable(() -> ConfigLoader.load(null, Map.of(variable, "x")));

    assertOneLine(thrown, variable, "did you mean " + nearest + "?");
  }

  @Test
  void variablesThatAreNotSettingsButAreReadByTransshipAreAccepted() {
    Map<String, String> env =
        Map.of(
            "TRANSSHIP_CONFIG", "/x.yaml",
            "TRANSSHIP_LOG_LEVEL", "DEBUG",
            "TRANSSHIP_JAVA_OPTS", "-Xmx1g",
            "TRANSSHIP_ADMIN_URL", "http://127.0.0.1:5001");

    assertThat(ConfigLoader.load(null, env)).isEqualTo(ConfigLoader.load(null, Map.of()));
  }

  @Test
  void aVariableMayAddAnUpstreamAndSetKeysWithoutADefault() {
    TransshipConfig config =
        ConfigLoader.load(
            null,
            Map.of(
                "TRANSSHIP_UPSTREAMS__LAB__URL", "http://127.0.0.1:5000",
                "TRANSSHIP_UPSTREAMS__LAB__HOSTS", "lab,registry.lab:5000",
                "TRANSSHIP_UPSTREAMS__GHCR_IO__CA_FILE", "/etc/ca.pem"));

    assertThat(config.upstreams().get("lab").url().toString()).isEqualTo("http://127.0.0.1:5000");
    assertThat(config.upstreams().get("ghcr.io").caFile()).isEqualTo(Path.of("/etc/ca.pem"));
  }

  @Test
  void aVariableNamingASectionIsAnError() {
    assertOneLine(
        catchThrowable(() -> ConfigLoader.load(null, Map.of("TRANSSHIP_STORAGE", "/data"))),
        "TRANSSHIP_STORAGE",
        "section");
  }

  @Test
  void upstreamsKeepTheOrderOfTheConfiguration() throws IOException {
    Path file = write("upstreams: { zeta: { url: 'http://z:1' }, alpha: { url: 'http://a:1' } }\n");

    assertThat(ConfigLoader.load(file, Map.of()).upstreams().keySet())
        .containsExactly(
            "docker.io",
            "ghcr.io",
            "quay.io",
            "registry.k8s.io",
            "public.ecr.aws",
            "gcr.io",
            "zeta",
            "alpha");
  }

  @Test
  void secretsAreMaskedInTheEffectiveTree() {
    ObjectNode tree =
        ConfigLoader.loadTree(
            null,
            Map.of(
                "TRANSSHIP_UPSTREAMS__DOCKER_IO__USERNAME", "me",
                "TRANSSHIP_UPSTREAMS__DOCKER_IO__PASSWORD", "hunter2",
                "TRANSSHIP_STORAGE__S3__SECRET_ACCESS_KEY", "s3cr3t"));

    String masked = Secrets.masked(tree).toString();

    assertThat(masked).doesNotContain("hunter2").doesNotContain("s3cr3t").contains("\"me\"");
    assertThat(tree.toString()).contains("hunter2");
  }
}
