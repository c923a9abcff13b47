package io.transship.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Graceful shutdown of the packaged proxy process: a 64 MiB blob download that is in flight when
 * the process gets SIGTERM completes with every byte, while {@code /readyz} answers 503 and the
 * registry port refuses new connections; the process then exits by itself and logs the drain.
 * Without the drain, SIGTERM cut the download (the JVM closed the event loops at once).
 */
@Tag("e2e")
@ExtendWith(DumpLogsOnFailure.class)
class ShutdownIT {
  private static final int SIZE = 64 * 1024 * 1024;
  private static E2eEnv env;
  private static DockerRegistry registry;
  private static String digest;

  @BeforeAll
  static void setUp() throws Exception {
    Tools.require("docker-registry", "htpasswd");
    env = E2eEnv.create("shutdown");
    registry = DockerRegistry.plain(env, "lab");
    byte[] blob = new byte[SIZE];
    new Random(12).nextBytes(blob);
    digest =
        "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(blob));
    pushBlob(registry, "e2e/big", blob, digest);
  }

  @AfterAll
  static void tearDown() {
    if (env != null) {
      env.close();
    }
  }

  /** Monolithic upload (distribution spec: POST, then PUT with {@code ?digest=}). */
  static void pushBlob(DockerRegistry r, String repo, byte[] blob, String digest) {
    HttpResponse<byte[]> start =
        Http.send(
            Http.request(r.url() + "/v2/" + repo + "/blobs/uploads/")
                .POST(HttpRequest.BodyPublishers.noBody())
                .build());
    assertThat(start.statusCode()).as("POST upload").isEqualTo(202);
    String location = start.headers().firstValue("Location").orElseThrow();
    URI put = URI.create(r.url() + "/").resolve(location);
    String sep = put.getQuery() == null ? "?" : "&";
    HttpResponse<byte[]> done =
        Http.send(
            HttpRequest.newBuilder(URI.create(put + sep + "digest=" + digest))
                .timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/octet-stream")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(blob))
                .build());
    assertThat(done.statusCode()).as("PUT upload").isEqualTo(201);
  }

  @Test
  void sigtermDrainsAnInFlightBlobDownload() throws Exception {
    Transship proxy =
        Transship.with("lab", registry).yaml("server: { drain-timeout: 60s }").start(env, "drain");
    HttpURLConnection conn =
        (HttpURLConnection)
            URI.create(proxy.url() + "/v2/lab/e2e/big/blobs/" + digest).toURL().openConnection();
    conn.setReadTimeout(60_000);
    assertThat(conn.getResponseCode()).isEqualTo(200);
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    long got;
    try (InputStream in = conn.getInputStream()) {
      byte[] first = in.readNBytes(1024 * 1024);
      sha.update(first);
      got = first.length;

      long mark = proxy.daemon().logMark();
      proxy.daemon().terminate();
      // readyz fails at once; the registry port stops accepting; the download is still open
      awaitTrue(() -> Http.status(proxy.adminUrl() + "/readyz") == 503, "readyz turns 503");
      awaitTrue(() -> refused(proxy.port()), "registry port refuses new connections");
      assertThat(proxy.daemon().isAlive()).as("alive while the download drains").isTrue();
      assertThat(proxy.daemon().logSince(mark)).contains("shutdown: readyz now fails");

      byte[] buf = new byte[256 * 1024];
      for (int n; (n = in.read(buf)) > 0; ) {
        sha.update(buf, 0, n);
        got += n;
      }
      assertThat(got).as("bytes received after SIGTERM").isEqualTo(SIZE);
      assertThat("sha256:" + HexFormat.of().formatHex(sha.digest())).isEqualTo(digest);

      int code = proxy.daemon().awaitExit(Duration.ofSeconds(30));
      assertThat(code).as("exit after the drain (143 = SIGTERM)").isIn(0, 143);
      assertThat(proxy.daemon().logSince(mark)).contains("shutdown: drained in");
    }
  }

  private static boolean refused(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return false;
    } catch (ConnectException e) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void awaitTrue(java.util.function.BooleanSupplier check, String what) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      if (check.getAsBoolean()) {
        return;
      }
      Daemon.sleep(100);
    }
    throw new AssertionError(what + ": not within 20 s");
  }
}
