package io.transship.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.transship.server.testing.TestPki;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * transship obtains its own certificate from a real ACME server (pebble) with HTTP-01 challenges
 * answered on its plain listener, serves it to skopeo (which trusts pebble's root only), and after
 * a restart takes it from storage instead of asking the CA again.
 */
@Tag("e2e")
@ExtendWith(DumpLogsOnFailure.class)
class AcmeIT {
  private static E2eEnv env;
  private static DockerRegistry registry;
  private static Skopeo skopeo;

  @BeforeAll
  static void setUp() {
    Tools.require("pebble", "pebble-challtestsrv", "skopeo", "docker-registry");
    env = E2eEnv.create("acme");
    TestImages images = TestImages.build(env);
    skopeo = new Skopeo(env);
    registry = DockerRegistry.plain(env, "lab");
    images.pushAll(skopeo, registry);
  }

  @AfterAll
  static void tearDown() {
    if (env != null) {
      env.close();
    }
  }

  @Test
  void obtainsServesAndKeepsItsCertificate() throws Exception {
    TestPki ca = new TestPki();
    Path pebbleCa = ca.writeRoot(env.dir("acme-trust").resolve("ca.pem"));
    int pebblePort = E2eEnv.freePort();
    int tlsPort = E2eEnv.freePort();
    String yaml =
        """
        tls:
          listen: "127.0.0.1:%d"
          acme: { directory: "https://localhost:%d/dir", email: ops@registry.test,
                  domains: [localhost, registry.test], ca-file: "%s", check-interval: 1s }
        """;
    // the ACME directory port is fixed before pebble starts; transship retries until it is up
    Transship proxy =
        Transship.with("lab", registry)
            .yaml(yaml.formatted(tlsPort, pebblePort, pebbleCa))
            .start(env, "acme");
    Pebble pebble = startPebble(ca, pebblePort, proxy.port());

    String issuer = "";
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (!issuer.contains("Pebble Intermediate") && System.nanoTime() < deadline) {
      Thread.sleep(250);
      issuer = servedIssuer(tlsPort);
    }
    assertThat(issuer).contains("Pebble Intermediate");
    assertThat(proxy.daemon().logText())
        .contains("GET \"/.well-known/acme-challenge/")
        .contains("ACME certificate for [localhost, registry.test] issued by");

    // a real client that trusts only pebble's root verifies the chain and the name
    Path certDir = env.dir("pebble-root");
    Files.writeString(certDir.resolve("ca.crt"), pebble.root());
    skopeo
        .cmd(
            "inspect",
            "--raw",
            "--cert-dir",
            certDir.toString(),
            "docker://localhost:" + tlsPort + "/lab/e2e/app:v1")
        .ok();

    long issued = pebble.issued();
    proxy.stop();
    Transship again =
        Transship.with("lab", registry)
            .yaml(yaml.formatted(tlsPort, pebblePort, pebbleCa))
            .start(env, "acme");
    assertThat(again.daemon().logText()).contains("loaded from storage");
    assertThat(servedIssuer(tlsPort)).contains("Pebble Intermediate");
    skopeo
        .cmd(
            "inspect",
            "--raw",
            "--cert-dir",
            certDir.toString(),
            "docker://localhost:" + tlsPort + "/lab/e2e/app:v1")
        .ok();
    assertThat(pebble.issued()).isEqualTo(issued);
  }

  private static Pebble startPebble(TestPki ca, int port, int httpPort) {
    return Pebble.startOn(env, ca, port, httpPort);
  }

  /** The issuer of the certificate served on {@code port} (no verification: just looking). */
  private static String servedIssuer(int port) throws Exception {
    SSLContext any = SSLContext.getInstance("TLS");
    any.init(
        null,
        new TrustManager[] {
          new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public X509Certificate[] getAcceptedIssuers() {
              return new X509Certificate[0];
            }
          }
        },
        null);
    try (SSLSocket socket = (SSLSocket) any.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      socket.startHandshake();
      return ((X509Certificate) socket.getSession().getPeerCertificates()[0])
          .getIssuerX500Principal()
          .getName();
    } catch (IOException e) {
      return "";
    }
  }
}
