package io.transship.e2e;

import io.transship.server.testing.TestPki;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Let's Encrypt's ACME test server, Debian's {@code pebble}, with {@code pebble-challtestsrv} as
 * its DNS server answering 127.0.0.1 for every name, so any host name validates against the proxy
 * on this machine. Pebble's own HTTPS uses a certificate of the test CA; random validation sleeps
 * and nonce rejections are off. HTTP-01 validation connects to {@code httpPort}.
 */
public final class Pebble implements AutoCloseable {
  private final Daemon dns;
  private final Daemon pebble;
  private final int port;
  private final int managementPort;
  private final TestPki ca;

  private Pebble(Daemon dns, Daemon pebble, int port, int managementPort, TestPki ca) {
    this.dns = dns;
    this.pebble = pebble;
    this.port = port;
    this.managementPort = managementPort;
    this.ca = ca;
  }

  /** Starts pebble on {@code port} (its ACME API), validating HTTP-01 on {@code httpPort}. */
  public static Pebble startOn(E2eEnv env, TestPki ca, int port, int httpPort) {
    Tools.require("pebble", "pebble-challtestsrv");
    Path dir = env.dir("pebble");
    int dnsPort = E2eEnv.freePort();
    int dnsManagement = E2eEnv.freePort();
    int management = E2eEnv.freePort();
    try {
      ca.issue("pebble", TestPki.KeyKind.EC_PKCS8, dir.resolve("cert.pem"), dir.resolve("key.pem"));
      Files.writeString(
          dir.resolve("pebble.json"),
          """
          {"pebble": {"listenAddress": "127.0.0.1:%d", "managementListenAddress": "127.0.0.1:%d",
            "certificate": "%s", "privateKey": "%s", "httpPort": %d, "tlsPort": %d,
            "ocspResponderURL": "", "externalAccountBindingRequired": false}}
          """
              .formatted(
                  port,
                  management,
                  dir.resolve("cert.pem"),
                  dir.resolve("key.pem"),
                  httpPort,
                  E2eEnv.freePort()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Daemon dns =
        Daemon.start(
            "pebble-challtestsrv",
            List.of(
                "pebble-challtestsrv",
                "-defaultIPv4",
                "127.0.0.1",
                "-defaultIPv6",
                "",
                "-dns01",
                "127.0.0.1:" + dnsPort,
                "-http01",
                "",
                "-https01",
                "",
                "-tlsalpn01",
                "",
                "-management",
                "127.0.0.1:" + dnsManagement),
            env.logs().resolve("pebble-challtestsrv.log"));
    Daemon pebble =
        Daemon.start(
            "pebble",
            List.of(
                "env",
                "PEBBLE_VA_NOSLEEP=1",
                "PEBBLE_WFE_NONCEREJECT=0",
                "pebble",
                "-config",
                dir.resolve("pebble.json").toString(),
                "-dnsserver",
                "127.0.0.1:" + dnsPort),
            env.logs().resolve("pebble.log"));
    Pebble p = env.track(new Pebble(dns, pebble, port, management, ca));
    pebble.awaitReady(
        Duration.ofSeconds(30), () -> pebble.logText().contains("ACME directory available"));
    return p;
  }

  /** The ACME directory URL. */
  public String directory() {
    return "https://127.0.0.1:" + port + "/dir";
  }

  /** Certificates issued so far (from pebble's log). */
  public long issued() {
    return pebble.logText().lines().filter(l -> l.contains("Issued certificate serial")).count();
  }

  /** Pebble's current root (it makes a new one at every start), PEM. */
  public String root() {
    try {
      HttpClient client = HttpClient.newBuilder().sslContext(ca.clientContext()).build();
      HttpResponse<String> response =
          client.send(
              HttpRequest.newBuilder(URI.create("https://localhost:" + managementPort + "/roots/0"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new AssertionError("pebble /roots/0 -> " + response.statusCode());
      }
      return response.body();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    pebble.stop();
    dns.stop();
  }
}
