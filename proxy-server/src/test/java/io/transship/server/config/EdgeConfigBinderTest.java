package io.transship.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EdgeConfigBinderTest {
  private static final String HASH = "$2y$05$abcdefghijklmnopqrstuuJ0m3d2q8t0lJ3KJ9C2m2Wq0b6Qe6Yg6";

  @TempDir Path dir;

  private Path write(String yaml) throws IOException {
    Path file = dir.resolve("transship.yaml");
    Files.writeString(file, yaml);
    return file;
  }

  private static void assertConfigError(Throwable thrown, String mention) {
    assertThat(thrown).isInstanceOf(ConfigException.class);
    assertThat(thrown.getMessage()).contains(mention).doesNotContain("\n");
  }

  @Test
  void byDefaultTheEdgeIsOpenPlainHttp() {
    TransshipConfig config = ConfigLoader.load(null, Map.of());
    assertThat(config.edge().tls()).isNull();
    assertThat(config.edge().auth().enabled()).isFalse();
    assertThat(config.edge().adminToken()).isNull();
    assertThat(config.edge().trustedProxies()).isEmpty();
  }

  @Test
  void aFullEdgeBindsFromFileAndEnvironment() throws IOException {
    Path file =
        write(
            """
            listen: ""
            tls: { listen: "0.0.0.0:443", cert-file: /certs/tls.crt, key-file: /certs/tls.key }
            auth:
              htpasswd: /etc/transship/htpasswd
              users:
                alice: { bcrypt: "%s" }
              access:
                - { users: [alice, ci], repositories: ["docker.io/library/*"] }
                - { users: [anonymous], repositories: ["ghcr.io/myorg/**"] }
              token-ttl: 2m
            server: { trusted-proxies: ["10.0.0.0/8"] }
            """
                .formatted(HASH));
    TransshipConfig config =
        ConfigLoader.load(
            file,
            Map.of(
                "TRANSSHIP_AUTH__USERS__CI__PASSWORD", "from-env",
                "TRANSSHIP_ADMIN__TOKEN", "0123456789abcdef-admin"));
    assertThat(config.listen()).isNull();
    assertThat(config.edge().tls().listen()).isEqualTo(new HostPort("0.0.0.0", 443));
    assertThat(config.edge().tls().reloadInterval()).isEqualTo(Duration.ofSeconds(5));
    EdgeConfig.Auth auth = config.edge().auth();
    assertThat(auth.enabled()).isTrue();
    assertThat(auth.htpasswd()).isEqualTo(Path.of("/etc/transship/htpasswd"));
    assertThat(auth.users()).containsOnlyKeys("alice", "ci");
    assertThat(auth.users().get("ci").password()).isEqualTo("from-env");
    assertThat(auth.users().get("ci").toString()).doesNotContain("from-env");
    assertThat(auth.access()).hasSize(2);
    assertThat(auth.tokenTtl()).isEqualTo(Duration.ofMinutes(2));
    assertThat(config.edge().adminToken()).isEqualTo("0123456789abcdef-admin");
    assertThat(config.edge().toString()).doesNotContain("0123456789abcdef-admin");
    assertThat(config.edge().trustedProxies()).isEqualTo(List.of("10.0.0.0/8"));
  }

  @Test
  void acmeReplacesTheCertificateFiles() throws IOException {
    TransshipConfig config =
        ConfigLoader.load(
            write(
                """
                tls:
                  listen: 0.0.0.0:443
                  acme: { directory: "https://acme.example/dir", domains: [registry.example.com] }
                """),
            Map.of("TRANSSHIP_TLS__ACME__EMAIL", "ops@example.com"));
    EdgeConfig.Acme acme = config.edge().tls().acme();
    assertThat(acme.directory().toString()).isEqualTo("https://acme.example/dir");
    assertThat(acme.email()).isEqualTo("ops@example.com");
    assertThat(acme.domains()).containsExactly("registry.example.com");
    assertThat(acme.renewBefore()).isEqualTo(Duration.ofDays(30));
    assertThat(acme.checkInterval()).isEqualTo(Duration.ofHours(6));
    assertThat(config.edge().tls().certFile()).isNull();
    assertConfigError(
        catchThrowable(() ->
            ConfigLoader.load(
                write(
                    "tls: { cert-file: /a, key-file: /b, acme: { directory: \"https://x/d\","
                        + " domains: [a] } }"),
                Map.of())),
        "exclusive");
    assertConfigError(
        catchThrowable(() ->
            ConfigLoader.load(write("tls: { acme: { directory: \"https://x/d\" } }"), Map.of())),
        "tls.acme.domains");
    assertConfigError(
        catchThrowable(() ->
            ConfigLoader.load(
                write("tls: { acme: { directory: \"http://x/d\", domains: [a] } }"), Map.of())),
        "https://");
  }

  @Test
  void theAdminTokenCanComeFromAFile() throws IOException {
    Path token = dir.resolve("admin-token");
    Files.writeString(token, "0123456789abcdef-file\n");
    TransshipConfig config =
        ConfigLoader.load(write("admin: { token-file: " + token + " }"), Map.of());
    assertThat(config.edge().adminToken()).isEqualTo("0123456789abcdef-file");
  }

  @Test
  void mistakesAreOneLineErrors() throws IOException {
    assertConfigError(
        catchThrowable(() -> ConfigLoader.load(write("listen: \"\""), Map.of())),
        "nothing would listen");
    assertConfigError(
        catchThrowable(() -> ConfigLoader.load(write("tls: { cert-file: /a }"), Map.of())),
        "tls.cert-file and tls.key-file");
    assertConfigError(
        catchThrowable(
            () -> ConfigLoader.load(write("auth: { users: { a: { bcrypt: nope } } }"), Map.of())),
        "auth.users.a.bcrypt");
    assertConfigError(
        catchThrowable(() -> ConfigLoader.load(write("auth: { users: { a: {} } }"), Map.of())),
        "TRANSSHIP_AUTH__USERS__A__PASSWORD");
    assertConfigError(
        catchThrowable(() ->
            ConfigLoader.load(
                write("auth: { access: [ { users: [a], repositories: [\"*\"] } ] }"), Map.of())),
        "must start with an upstream alias");
    assertConfigError(
        catchThrowable(() -> ConfigLoader.load(write("auth: { token-secret: short }"), Map.of())),
        "at least 32 bytes");
    assertConfigError(
        catchThrowable(() -> ConfigLoader.load(write("admin: { token: short }"), Map.of())),
        "at least 16 characters");
  }
}
