package io.transship.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.transship.server.testing.TestPki;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Real clients over HTTPS with credentials, as a Fargate task or a node would pull: the proxy
 * serves a certificate from a test CA made here, users come from a real {@code htpasswd -B} file,
 * and access rules give alice {@code lab/e2e/**}, bob and anonymous only {@code lab/e2e/multi}. For
 * skopeo ({@code --creds}, {@code --cert-dir}), podman ({@code login} + {@code pull} with {@code
 * --cert-dir}) and containerd ({@code ctr pull --user} with a {@code hosts.toml} naming the CA):
 * alice pulls, a wrong password is refused, bob is refused {@code e2e/app}, anonymous pulls {@code
 * e2e/multi}. Then the certificate is renewed on disk and every client pulls again over the new
 * one.
 */
@Tag("e2e")
@ExtendWith(DumpLogsOnFailure.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EdgeTlsIT {
  private static final String ALICE = "alice-Pa55";
  private static final String BOB = "bob-Pa55";
  private static final String PLATFORM = "linux/amd64";

  private static E2eEnv env;
  private static DockerRegistry registry;
  private static Transship proxy;
  private static TestPki ca;
  private static Path cert;
  private static Path key;
  private static Path certDir;
  private static int tlsPort;
  private static Skopeo skopeo;

  @BeforeAll
  static void setUp() throws IOException {
    Tools.require("skopeo", "docker-registry", "htpasswd");
    env = E2eEnv.create("edge-tls");
    TestImages images = TestImages.build(env);
    skopeo = new Skopeo(env);
    registry = DockerRegistry.plain(env, "lab");
    images.pushAll(skopeo, registry);

    ca = new TestPki();
    Path tls = env.dir("tls");
    cert = tls.resolve("tls.crt");
    key = tls.resolve("tls.key");
    ca.issue("first", TestPki.KeyKind.RSA_PKCS1, cert, key);
    certDir = env.dir("certs");
    ca.writeRoot(certDir.resolve("ca.crt"));
    Path htpasswd = tls.resolve("htpasswd");
    Cmd.of("htpasswd", "-B", "-b", "-c", htpasswd.toString(), "alice", ALICE).ok();
    Cmd.of("htpasswd", "-B", "-b", htpasswd.toString(), "bob", BOB).ok();

    tlsPort = E2eEnv.freePort();
    proxy =
        Transship.with("lab", registry)
            .yaml(
                """
                tls: { listen: "127.0.0.1:%d", cert-file: "%s", key-file: "%s", reload-interval: 1s }
                auth:
                  htpasswd: "%s"
                  access:
                    - { users: [alice], repositories: ["lab/e2e/**"] }
                    - { users: [bob, anonymous], repositories: ["lab/e2e/multi"] }
                """
                    .formatted(tlsPort, cert, key, htpasswd))
            .start(env, "edge");
  }

  @AfterAll
  static void tearDown() {
    if (env != null) {
      env.close();
    }
  }

  private static String host() {
    return "localhost:" + tlsPort;
  }

  private static String ref(String repoTag) {
    return host() + "/lab/" + repoTag;
  }

  // ---- skopeo -------------------------------------------------------------------------------

  private static Cmd.Result skopeoInspect(String repoTag, String creds) {
    return creds == null
        ? skopeo
            .cmd("inspect", "--raw", "--cert-dir", certDir.toString(), "docker://" + ref(repoTag))
            .run()
        : skopeo
            .cmd(
                "inspect",
                "--raw",
                "--cert-dir",
                certDir.toString(),
                "--creds",
                creds,
                "docker://" + ref(repoTag))
            .run();
  }

  private static void skopeoPulls(String round) {
    Path out = env.dir("skopeo-out-" + round);
    skopeo
        .cmd(
            "copy",
            "--src-cert-dir",
            certDir.toString(),
            "--src-creds",
            "alice:" + ALICE,
            "docker://" + ref("e2e/app:v1"),
            "oci:" + out + ":app")
        .ok();
    assertThat(out.resolve("index.json")).exists();
  }

  @Test
  @Order(1)
  void skopeo() {
    skopeoPulls("first");
    Cmd.Result wrong = skopeoInspect("e2e/app:v1", "alice:wrong");
    assertThat(wrong.ok()).as(wrong.describe()).isFalse();
    assertThat(wrong.stderr()).containsIgnoringCase("unauthorized");
    Cmd.Result bob = skopeoInspect("e2e/app:v1", "bob:" + BOB);
    assertThat(bob.ok()).as(bob.describe()).isFalse();
    assertThat(bob.stderr()).containsIgnoringCase("denied");
    Cmd.Result bobMulti = skopeoInspect("e2e/multi:v1", "bob:" + BOB);
    assertThat(bobMulti.ok()).as(bobMulti.describe()).isTrue();
    Cmd.Result anonymous = skopeoInspect("e2e/multi:v1", null);
    assertThat(anonymous.ok()).as(anonymous.describe()).isTrue();
    Cmd.Result anonymousApp = skopeoInspect("e2e/app:v1", null);
    assertThat(anonymousApp.ok()).as(anonymousApp.describe()).isFalse();
    String log = proxy.daemon().logText();
    assertThat(log).contains("authentication failed: bad-password user=alice client=127.0.0.1");
    assertThat(log).doesNotContain(ALICE).doesNotContain(BOB).doesNotContain("wrong");
  }

  // ---- podman -------------------------------------------------------------------------------

  private static void podmanPulls(String round) {
    try (Podman podman = Podman.vfs(env, "alice-" + round)) {
      podman
          .podman("login", "--cert-dir", certDir.toString(), "-u", "alice", "-p", ALICE, host())
          .ok();
      podman.pull(ref("e2e/app:v1"), "--cert-dir", certDir.toString()).ok();
      assertThat(podman.inspect(ref("e2e/app:v1")).path("Id").asText()).isNotEmpty();
    }
  }

  @Test
  @Order(2)
  void podman() {
    Tools.requireRoot("podman runs as root here");
    podmanPulls("first");
    try (Podman podman = Podman.vfs(env, "others")) {
      Cmd.Result wrong =
          podman
              .podman(
                  "login", "--cert-dir", certDir.toString(), "-u", "alice", "-p", "wrong", host())
              .run();
      assertThat(wrong.ok()).as(wrong.describe()).isFalse();
      podman.podman("login", "--cert-dir", certDir.toString(), "-u", "bob", "-p", BOB, host()).ok();
      Cmd.Result bob = podman.pull(ref("e2e/app:v1"), "--cert-dir", certDir.toString()).run();
      assertThat(bob.ok()).as(bob.describe()).isFalse();
      podman.podman("logout", "--all").ok();
      podman.pull(ref("e2e/multi:v1"), "--cert-dir", certDir.toString()).ok();
    }
  }

  // ---- containerd ---------------------------------------------------------------------------

  private static Path hostsDir() {
    Path dir = env.dir("containerd-hosts");
    try {
      Path d = Files.createDirectories(dir.resolve(host()));
      Files.writeString(
          d.resolve("hosts.toml"),
          """
          server = "https://%1$s"

          [host."https://%1$s"]
            capabilities = ["pull", "resolve"]
            ca = "%2$s"
          """
              .formatted(host(), certDir.resolve("ca.crt")));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }

  private static Cmd.Result ctrPull(Containerd c, String repoTag, String user) {
    return user == null
        ? c.ctr(
                "images",
                "pull",
                "--hosts-dir",
                hostsDir().toString(),
                "--platform",
                PLATFORM,
                ref(repoTag))
            .run()
        : c.ctr(
                "images",
                "pull",
                "--hosts-dir",
                hostsDir().toString(),
                "--platform",
                PLATFORM,
                "--user",
                user,
                ref(repoTag))
            .run();
  }

  private static void containerdPulls(String round) {
    try (Containerd c = Containerd.start(env, "alice-" + round)) {
      Cmd.Result alice = ctrPull(c, "e2e/app:v1", "alice:" + ALICE);
      assertThat(alice.ok()).as(alice.describe()).isTrue();
    }
  }

  @Test
  @Order(3)
  void containerd() {
    Tools.require("containerd", "ctr", "runc");
    Tools.requireRoot("containerd needs root");
    containerdPulls("first");
    try (Containerd c = Containerd.start(env, "others")) {
      Cmd.Result wrong = ctrPull(c, "e2e/app:v1", "alice:wrong");
      assertThat(wrong.ok()).as(wrong.describe()).isFalse();
      Cmd.Result bob = ctrPull(c, "e2e/app:v1", "bob:" + BOB);
      assertThat(bob.ok()).as(bob.describe()).isFalse();
      Cmd.Result anonymous = ctrPull(c, "e2e/multi:v1", null);
      assertThat(anonymous.ok()).as(anonymous.describe()).isTrue();
    }
  }

  // ---- Docker Engine 20.10 ------------------------------------------------------------------

  private static void dockerPulls(DockerEngine docker) {
    docker.docker("login", "-u", "alice", "-p", ALICE, host()).ok();
    docker.docker("pull", ref("e2e/app:v1")).ok();
    docker.docker("logout", host()).ok();
  }

  @Test
  @Order(4)
  void dockerEngine() {
    Tools.requireRoot("dockerd needs root");
    try (DockerEngine docker = DockerEngine.start(env, "edge")) {
      docker.trust(host(), certDir.resolve("ca.crt"));
      dockerPulls(docker);
      Cmd.Result wrong = docker.docker("login", "-u", "alice", "-p", "wrong", host()).run();
      assertThat(wrong.ok()).as(wrong.describe()).isFalse();
      docker.docker("login", "-u", "bob", "-p", BOB, host()).ok();
      Cmd.Result bobApp = docker.docker("pull", ref("e2e/app:v1-docker")).run();
      assertThat(bobApp.ok()).as(bobApp.describe()).isFalse();
      assertThat(bobApp.stderr()).containsIgnoringCase("denied");
      docker.docker("logout", host()).ok();
      docker.docker("pull", "--platform", PLATFORM, ref("e2e/multi:v1")).ok();
    }
  }

  // ---- renewal ------------------------------------------------------------------------------

  @Test
  @Order(5)
  void aCertificateRenewedOnDiskServesTheNextConnections() throws Exception {
    assertThat(servedCommonName()).isEqualTo("CN=first");
    ca.issue("second", TestPki.KeyKind.EC_SEC1, cert, key);
    String seen = "CN=first";
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (seen.equals("CN=first") && System.nanoTime() < deadline) {
      Thread.sleep(200);
      seen = servedCommonName();
    }
    assertThat(seen).isEqualTo("CN=second");
    skopeoPulls("renewed");
    if (Tools.isRoot()) {
      podmanPulls("renewed");
      containerdPulls("renewed");
      try (DockerEngine docker = DockerEngine.start(env, "renewed")) {
        docker.trust(host(), certDir.resolve("ca.crt"));
        dockerPulls(docker);
      }
    }
    assertThat(proxy.daemon().logText()).contains("TLS certificate reloaded: CN=second");
  }

  private static String servedCommonName() throws IOException {
    try (SSLSocket socket =
        (SSLSocket) ca.clientContext().getSocketFactory().createSocket("127.0.0.1", tlsPort)) {
      socket.setSoTimeout(10_000);
      socket.startHandshake();
      return ((X509Certificate) socket.getSession().getPeerCertificates()[0])
          .getSubjectX500Principal()
          .getName();
    }
  }
}
