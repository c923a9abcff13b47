package io.transship.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  @TempDir Path dir;

  private Path write(String yaml) throws IOException {
    Path file = dir.resolve("transship.yaml");
    Files.writeString(file, yaml);
    return file;
  }

  private static void assertOneLineConfigError(Throwable thrown, String... mustMention) {
    assertThat(thrown).isInstanceOf(ConfigException.class);
    assertThat(thrown.getMessage()).isNotBlank().doesNotContain("\n");
    for (String text : mustMention) {
      assertThat(thrown.getMessage()).contains(text);
    }
  }

  @Test
  void defaultConversionThreadsNeverOversubscribeTheCores() {
    int cores = Runtime.getRuntime().availableProcessors();
    ConversionConfig conversion = ConfigLoader.load(null, Map.of()).conversion();
    assertThat(conversion.workers() * conversion.zstdThreads())
        .isLessThanOrEqualTo(Math.max(cores, conversion.zstdThreads()));
    assertThat(conversion.workers()).isPositive();
    ConversionConfig defaults = ConversionConfig.defaults();
    assertThat(defaults.workers() * defaults.zstdThreads())
        .isLessThanOrEqualTo(Math.max(cores, defaults.zstdThreads()));
  }

  @Test
  void defaultsAloneGiveTheDocumentedSettings() {
    TransshipConfig config = ConfigLoader.load(null, Map.of());

    assertThat(config.listen()).isEqualTo(new HostPort("0.0.0.0", 5000));
    assertThat(config.adminListen()).isEqualTo(new HostPort("127.0.0.1", 5001));
    assertThat(config.storage().root()).isEqualTo(Path.of("./data"));
    assertThat(config.storage().maxBytes()).isEqualTo(53_687_091_200L);
    assertThat(config.tagTtl()).isEqualTo(Duration.ofSeconds(60));
    assertThat(config.defaultUpstream()).isEqualTo("docker.io");
    assertThat(config.upstreams())
        .containsOnlyKeys(
            "docker.io", "ghcr.io", "quay.io", "registry.k8s.io", "public.ecr.aws", "gcr.io");
  }

  @Test
  void defaultDockerHubUpstreamAddsTheLibraryPrefix() {
    UpstreamConfig docker = ConfigLoader.load(null, Map.of()).upstreams().get("docker.io");

    assertThat(docker.alias()).isEqualTo("docker.io");
    assertThat(docker.url()).isEqualTo(URI.create("https://registry-1.docker.io"));
    assertThat(docker.libraryPrefix()).isTrue();
    assertThat(docker.hosts()).contains("docker.io", "registry-1.docker.io", "index.docker.io");
    assertThat(docker.hasCredentials()).isFalse();
  }

  @Test
  void upstreamDefaultsApplyToEveryUpstream() {
    TransshipConfig config = ConfigLoader.load(null, Map.of());

    assertThat(config.upstreams().values())
        .allSatisfy(u -> {
          assertThat(u.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
          assertThat(u.responseTimeout()).isEqualTo(Duration.ofSeconds(60));
          assertThat(u.bodyIdleTimeout()).isEqualTo(Duration.ofSeconds(60));
          assertThat(u.maxAttempts()).isEqualTo(3);
          assertThat(u.insecureSkipVerify()).isFalse();
        });
    assertThat(config.upstreams().get("ghcr.io").libraryPrefix()).isFalse();
  }

  @Test
  void userFileAddsAnUpstreamOverridesAKeyAndRemovesAnUpstream() throws IOException {
    Path file =
        write(
            """
            listen: 0.0.0.0:6000
            storage:
              filesystem:
                max-bytes: 1GiB
            upstreams:
              lab:
                url: http://127.0.0.1:5000/
                max-attempts: 1
              ghcr.io: null
              docker.io:
                username: bob
                password: secret
            """);

    TransshipConfig config = ConfigLoader.load(file, Map.of());

    assertThat(config.listen()).isEqualTo(new HostPort("0.0.0.0", 6000));
    assertThat(config.adminListen()).isEqualTo(new HostPort("127.0.0.1", 5001));
    assertThat(config.storage().maxBytes()).isEqualTo(1L << 30);
    assertThat(config.storage().root()).isEqualTo(Path.of("./data"));
    assertThat(config.upstreams())
        .containsOnlyKeys(
            "docker.io", "lab", "quay.io", "registry.k8s.io", "public.ecr.aws", "gcr.io");
    UpstreamConfig lab = config.upstreams().get("lab");
    assertThat(lab.url()).isEqualTo(URI.create("http://127.0.0.1:5000"));
    assertThat(lab.maxAttempts()).isEqualTo(1);
    assertThat(lab.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
    UpstreamConfig docker = config.upstreams().get("docker.io");
    assertThat(docker.username()).isEqualTo("bob");
    assertThat(docker.password()).isEqualTo("secret");
    assertThat(docker.url()).isEqualTo(URI.create("https://registry-1.docker.io"));
    assertThat(docker.libraryPrefix()).isTrue();
    assertThat(docker.toString()).doesNotContain("secret");
  }

  @Test
  void emptyUserFileMeansDefaults() throws IOException {
    TransshipConfig config = ConfigLoader.load(write(""), Map.of());

    assertThat(config).isEqualTo(ConfigLoader.load(null, Map.of()));
  }

  @Test
  void hostsDefaultToAliasAndUrlHostPort() throws IOException {
    Path file =
        write(
            """
            upstreams:
              lab:
                url: http://127.0.0.1:5000
              corp:
                url: https://registry.corp.example
            """);

    TransshipConfig config = ConfigLoader.load(file, Map.of());

    assertThat(config.upstreams().get("lab").hosts()).containsExactly("lab", "127.0.0.1:5000");
    assertThat(config.upstreams().get("corp").hosts())
        .containsExactly("corp", "registry.corp.example");
  }

  @Test
  void explicitHostsReplaceTheDefaultHosts() throws IOException {
    Path file =
        write(
            """
            upstreams:
              lab:
                url: http://127.0.0.1:5000
                hosts: [registry.lab]
            """);

    assertThat(ConfigLoader.load(file, Map.of()).upstreams().get("lab").hosts())
        .containsExactly("registry.lab");
  }

  @Test
  void environmentOverridesTopLevelListen() {
    TransshipConfig config = ConfigLoader.load(null, Map.of("TRANSSHIP_LISTEN", "127.0.0.1:7000"));

    assertThat(config.listen()).isEqualTo(new HostPort("127.0.0.1", 7000));
  }

  @Test
  void environmentOverridesANestedDashedKey() {
    TransshipConfig config =
        ConfigLoader.load(null, Map.of("TRANSSHIP_STORAGE__FILESYSTEM__MAX_BYTES", "10GiB"));

    assertThat(config.storage().maxBytes()).isEqualTo(10L * 1024 * 1024 * 1024);
  }

  @Test
  void environmentUnderscoreMatchesADotInAnUpstreamAlias() {
    TransshipConfig config =
        ConfigLoader.load(
            null,
            Map.of(
                "TRANSSHIP_UPSTREAMS__DOCKER_IO__USERNAME", "u",
                "TRANSSHIP_UPSTREAMS__DOCKER_IO__PASSWORD", "x"));

    UpstreamConfig docker = config.upstreams().get("docker.io");
    assertThat(docker.username()).isEqualTo("u");
    assertThat(docker.password()).isEqualTo("x");
    assertThat(config.upstreams()).hasSize(6).doesNotContainKeys("docker-io", "docker_io");
  }

  @Test
  void environmentWinsOverTheUserFile() throws IOException {
    Path file = write("listen: 0.0.0.0:6000\n");

    TransshipConfig config =
        ConfigLoader.load(
            file, Map.of("TRANSSHIP_LISTEN", "0.0.0.0:7000", "TRANSSHIP_CONFIG", "/ignored"));

    assertThat(config.listen().port()).isEqualTo(7000);
  }

  @Test
  void unrelatedEnvironmentVariablesAreIgnored() {
    TransshipConfig config =
        ConfigLoader.load(null, Map.of("PATH", "/usr/bin", "LISTEN", "1.2.3.4:1"));

    assertThat(config).isEqualTo(ConfigLoader.load(null, Map.of()));
  }

  @Test
  void upstreamUrlWithAnotherSchemeIsAConfigErrorNamingTheKey() throws IOException {
    Path file =
        write(
            """
            upstreams:
              lab:
                url: ftp://127.0.0.1:5000
            """);

    Throwable thrown = catchThrowable(() -> ConfigLoader.load(file, Map.of()));

    assertOneLineConfigError(thrown, "upstreams.lab.url");
  }

  @Test
  void upstreamUrlWithoutSchemeIsAConfigErrorNamingTheKey() throws IOException {
    Path file =
        write(
            """
            upstreams:
              lab:
                url: registry.example.com
            """);

    Throwable thrown = catchThrowable(() -> ConfigLoader.load(file, Map.of()));

    assertOneLineConfigError(thrown, "upstreams.lab.url");
  }

  @Test
  void upstreamWithoutUrlIsAConfigErrorNamingTheKey() throws IOException {
    Path file =
        write(
            """
            upstreams:
              lab:
                username: bob
            """);

    Throwable thrown = catchThrowable(() -> ConfigLoader.load(file, Map.of()));

    assertOneLineConfigError(thrown, "upstreams.lab.url");
  }

  @Test
  void defaultUpstreamThatIsNotConfiguredIsAConfigErrorNamingTheKey() throws IOException {
    Path file = write("default-upstream: nowhere.example\n");

    Throwable thrown = catchThrowable(() -> ConfigLoader.load(file, Map.of()));

    assertOneLineConfigError(thrown, "default-upstream", "nowhere.example");
  }

  @Test
  void removingTheDefaultUpstreamWithoutChangingDefaultIsAConfigError() throws IOException {
    Path file = write("upstreams:\n  docker.io: null\n");

    Throwable thrown = catchThrowable(() -> ConfigLoader.load(file, Map.of()));

    assertOneLineConfigError(thrown, "default-upstream", "docker.io");
  }

  @Test
  void emptyDefaultUpstreamIsAllowed() throws IOException {
    TransshipConfig config = ConfigLoader.load(write("default-upstream: ''\n"), Map.of());

    assertThat(config.defaultUpstream()).isEmpty();
  }

  @Test
  void badMaxBytesIsAConfigErrorNamingTheKey() throws IOException {
    Path file =
        write(
            """
            storage:
              filesystem:
                max-bytes: lots
            """);

    Throwable thrown = catchThrowable(() -> ConfigLoader.load(file, Map.of()));

    // Regression (fixed): ConfigLoader.bind parses storage.filesystem.max-bytes with
    // Sizes.parseBytes outside its
    // try/catch, so a bad size escapes as a raw IllegalArgumentException ("not a size: 'lots' ...")
    // instead of a ConfigException, and the message does not name the key.
    assertOneLineConfigError(thrown, "storage.filesystem.max-bytes", "lots");
  }

  @Test
  void badMaxBytesFromTheEnvironmentIsAConfigError() {
    Throwable thrown =
        catchThrowable(() ->
            ConfigLoader.load(null, Map.of("TRANSSHIP_STORAGE__FILESYSTEM__MAX_BYTES", "10 gigs")));

    // Regression (fixed): same defect as badMaxBytesIsAConfigErrorNamingTheKey, reached through the
    // environment.
    assertThat(thrown).isInstanceOf(ConfigException.class);
  }

  @Test
  void badTagTtlIsAConfigErrorNamingTheKey() throws IOException {
    Path file = write("cache:\n  tag-ttl: soon\n");

    Throwable thrown = catchThrowable(() -> ConfigLoader.load(file, Map.of()));

    // Regression (fixed): the ConfigException carries only Sizes' message "not a duration: 'soon'
    // (try 30s or
    // 5m)"; bind() never adds the key path cache.tag-ttl, so the user cannot tell which key is bad.
    assertOneLineConfigError(thrown, "cache.tag-ttl");
  }

  @Test
  void badUpstreamTimeoutIsAConfigErrorNamingTheUpstream() throws IOException {
    Path file =
        write(
            """
            upstreams:
              lab:
                url: http://127.0.0.1:5000
                connect-timeout: forever
            """);

    Throwable thrown = catchThrowable(() -> ConfigLoader.load(file, Map.of()));

    assertOneLineConfigError(thrown, "upstreams.lab", "forever");
  }

  @Test
  void maxAttemptsBelowOneIsAConfigError() throws IOException {
    Path file =
        write(
            """
            upstreams:
              lab:
                url: http://127.0.0.1:5000
                max-attempts: 0
            """);

    Throwable thrown = catchThrowable(() -> ConfigLoader.load(file, Map.of()));

    assertOneLineConfigError(thrown, "upstreams.lab", "max-attempts");
  }

  @Test
  void badListenAddressIsAConfigError() {
    Throwable thrown =
        catchThrowable(() -> ConfigLoader.load(null, Map.of("TRANSSHIP_LISTEN", "no-port-here")));

    assertOneLineConfigError(thrown, "no-port-here");
  }

  @Test
  void upstreamGivenAsAPlainStringIsAConfigErrorNamingTheKey() throws IOException {
    Path file = write("upstreams:\n  lab: http://127.0.0.1:5000\n");

    Throwable thrown = catchThrowable(() -> ConfigLoader.load(file, Map.of()));

    // Regression (fixed): ConfigLoader.bind casts every upstream entry to ObjectNode; a scalar
    // value (an easy
    // mistake: "lab: http://...") escapes as a ClassCastException instead of a ConfigException.
    assertOneLineConfigError(thrown, "upstreams.lab");
  }

  @Test
  void configFileThatIsNotAMappingIsAConfigError() throws IOException {
    Path file = write("- a\n- b\n");

    Throwable thrown = catchThrowable(() -> ConfigLoader.load(file, Map.of()));

    assertOneLineConfigError(thrown, file.toString());
  }

  @Test
  void missingConfigFileIsAConfigError() {
    Path file = dir.resolve("absent.yaml");

    Throwable thrown = catchThrowable(() -> ConfigLoader.load(file, Map.of()));

    assertOneLineConfigError(thrown, "absent.yaml");
  }

  @Test
  void hostPortParsesIpv6AndEmptyHost() {
    assertThat(HostPort.parse("[::1]:5000")).isEqualTo(new HostPort("::1", 5000));
    assertThat(HostPort.parse(":5000")).isEqualTo(new HostPort("0.0.0.0", 5000));
    assertThat(new HostPort("::1", 5000)).hasToString("[::1]:5000");
    assertThatThrownBy(() -> HostPort.parse("host:70000"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void limitsHaveProductionDefaultsAndCanBeSetByFileAndEnvironment() throws IOException {
    TransshipConfig defaults = ConfigLoader.load(null, Map.of());
    assertThat(defaults.connections()).isEqualTo(ServerLimits.defaults());
    assertThat(defaults.maxBlobBytes()).isEqualTo(64L << 30);
    assertThat(defaults.conversion().limits())
        .isEqualTo(io.transship.converter.InflationLimits.defaults());

    TransshipConfig custom =
        ConfigLoader.load(
            write(
                """
                connections: { header-timeout: 5s, max: 100, max-request-line: 4KiB }
                cache: { max-blob-bytes: 1GiB }
                conversion: { max-inflation-ratio: 0, max-tar-entries: 0 }
                """),
            Map.of("TRANSSHIP_CONNECTIONS__MAX_PER_ADDRESS", "7"));
    assertThat(custom.connections().headerTimeout()).isEqualTo(java.time.Duration.ofSeconds(5));
    assertThat(custom.connections().maxConnections()).isEqualTo(100);
    assertThat(custom.connections().maxConnectionsPerAddress()).isEqualTo(7);
    assertThat(custom.connections().maxRequestLine()).isEqualTo(4096);
    assertThat(custom.maxBlobBytes()).isEqualTo(1L << 30);
    assertThat(custom.conversion().limits().maxRatio()).isZero();
    assertThat(custom.conversion().limits().maxEntries()).isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void nonsensicalLimitsAreOneLineErrors() throws IOException {
    assertOneLineConfigError(
        catchThrowable(() -> ConfigLoader.load(write("connections: { max: lots }\n"), Map.of())),
        "connections.max");
    assertOneLineConfigError(
        catchThrowable(
            () -> ConfigLoader.load(write("connections: { header-timeout: 0s }\n"), Map.of())),
        "header-timeout");
  }

  @Test
  void drainTimeoutDefaultsToThirtySecondsAndIsOverridable() {
    assertThat(ConfigLoader.load(null, Map.of()).drainTimeout())
        .isEqualTo(java.time.Duration.ofSeconds(30));
    assertThat(
            ConfigLoader.load(null, Map.of("TRANSSHIP_SERVER__DRAIN_TIMEOUT", "2m")).drainTimeout())
        .isEqualTo(java.time.Duration.ofMinutes(2));
  }
}
