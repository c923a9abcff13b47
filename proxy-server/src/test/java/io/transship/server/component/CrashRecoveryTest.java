package io.transship.server.component;

import static org.assertj.core.api.Assertions.assertThat;

import io.transship.oci.Digest;
import io.transship.server.testing.FakeUpstream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reliability suite, crashes: a real transship process ({@code Main serve} in a child JVM) is
 * killed with SIGKILL while it downloads a blob and converts a layer, then restarted on the same
 * storage. Every stored blob and manifest must still match its digest, and both pulls must complete
 * after the restart. Prints its figures.
 */
class CrashRecoveryTest {
  @TempDir Path dir;
  FakeUpstream upstream;
  Process child;
  final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @AfterEach
  void stop() throws Exception {
    if (child != null) {
      child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  @Test
  void killedMidDownloadAndMidConversionItRestartsWithEveryStoredObjectIntact() throws Exception {
    upstream = FakeUpstream.start();
    byte[] big = new byte[16 << 20];
    new Random(3).nextBytes(big);
    Digest slowBlob = upstream.putBlob(big);
    upstream.throttleBody("/blobs/" + slowBlob, 50); // about 1.3 MB/s: minutes for the whole
    TestImages.Image image = TestImages.push(upstream, "team/app", "v1", 9, 3, false);
    Path root = dir.resolve("data");
    int port = freePort();
    int admin = freePort();
    Path config = dir.resolve("transship.yaml");
    Files.writeString(
        config,
        """
        listen: 127.0.0.1:%d
        admin: { listen: 127.0.0.1:%d }
        storage: { filesystem: { root: %s, max-bytes: 0 } }
        default-upstream: fake
        conversion: { deadline: 120s, zstd-level: 19, zstd-threads: 1, workers: 1 }
        upstreams:
          fake: { url: "%s", format: zstd }
        """
            .formatted(port, admin, root, upstream.url()));

    child = startChild(config, dir.resolve("first.log"));
    awaitReady(admin);
    String base = "http://127.0.0.1:" + port;
    CompletableFuture<HttpResponse<byte[]>> download =
        client.sendAsync(
            HttpRequest.newBuilder(URI.create(base + "/v2/fake/team/app/blobs/" + slowBlob))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    CompletableFuture<HttpResponse<byte[]>> conversion =
        client.sendAsync(manifestRequest(base), HttpResponse.BodyHandlers.ofByteArray());

    // kill once a spool is growing and a conversion has started but not finished
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    String state = "";
    while (System.nanoTime() < deadline) {
      String metrics = get("http://127.0.0.1:" + admin + "/metrics");
      boolean converting =
          metric(metrics, "transship_conversions_started_total") >= 1
              && metric(metrics, "transship_conversions_seconds_count") == 0;
      long spooled = spooledBytes(root);
      if (converting && spooled > 0) {
        state = "spool at " + spooled + " bytes, a conversion running";
        break;
      }
      Thread.sleep(20);
    }
    assertThat(state).as("reached mid-download and mid-conversion").isNotEmpty();
    child.destroyForcibly(); // SIGKILL: no shutdown hook, no flush
    assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(
            download
                .handle(
                    (r, e) -> e != null || r.statusCode() != 200 || r.body().length < big.length)
                .get())
        .as("the interrupted download did not complete")
        .isTrue();
    conversion.handle((r, e) -> null).get();
    int afterKill = verifyStore(root);
    System.out.printf(
        "[crash] killed with %s; %d stored objects verified after the kill%n", state, afterKill);

    upstream.throttleBody("/blobs/" + slowBlob, 0);
    child = startChild(config, dir.resolve("second.log"));
    awaitReady(admin);
    HttpResponse<byte[]> blob =
        client.send(
            HttpRequest.newBuilder(URI.create(base + "/v2/fake/team/app/blobs/" + slowBlob))
                .build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(blob.statusCode()).isEqualTo(200);
    assertThat(Digest.sha256(blob.body())).isEqualTo(slowBlob);
    HttpResponse<byte[]> manifest =
        client.send(manifestRequest(base), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(manifest.statusCode()).isEqualTo(200);
    assertThat(new String(manifest.body(), StandardCharsets.UTF_8)).contains("tar+zstd");
    for (String layer : layerDigests(manifest.body())) {
      HttpResponse<byte[]> converted =
          client.send(
              HttpRequest.newBuilder(URI.create(base + "/v2/fake/team/app/blobs/" + layer)).build(),
              HttpResponse.BodyHandlers.ofByteArray());
      assertThat(converted.statusCode()).isEqualTo(200);
      assertThat(Digest.sha256(converted.body()).toString()).isEqualTo(layer);
    }
    int afterRestart = verifyStore(root);
    System.out.printf(
        "[crash] after restart: blob and converted image pulled, %d stored objects verified%n",
        afterRestart);
  }

  private Process startChild(Path config, Path log) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    return new ProcessBuilder(
            java,
            "-cp",
            System.getProperty("java.class.path"),
            "io.transship.server.Main",
            "serve",
            "--config",
            config.toString())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  private void awaitReady(int admin) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (get("http://127.0.0.1:" + admin + "/readyz").startsWith("ready")) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      assertThat(child.isAlive()).as("transship child process running").isTrue();
      Thread.sleep(100);
    }
    throw new AssertionError("transship did not become ready");
  }

  private static HttpRequest manifestRequest(String base) {
    return HttpRequest.newBuilder(URI.create(base + "/v2/fake/team/app/manifests/v1"))
        .header("User-Agent", "containerd/2.0.0")
        .header("Accept", "application/vnd.oci.image.manifest.v1+json")
        .timeout(Duration.ofSeconds(180))
        .build();
  }

  private String get(String url) throws IOException, InterruptedException {
    return client
        .send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  private static double metric(String metrics, String name) {
    double sum = 0;
    for (String line : metrics.split("\n")) {
      if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  private static long spooledBytes(Path root) throws IOException {
    Path tmp = root.resolve(".tmp");
    if (!Files.isDirectory(tmp)) {
      return 0;
    }
    try (Stream<Path> files = Files.walk(tmp)) {
      return files
          .filter(p -> p.getFileName().toString().startsWith("spool-"))
          .mapToLong(p -> p.toFile().length())
          .sum();
    }
  }

  /** Hashes every stored blob and manifest and checks it against its name; returns how many. */
  private static int verifyStore(Path root) throws Exception {
    int count = 0;
    for (String kind : List.of("blobs", "manifests")) {
      Path dir = root.resolve(kind);
      if (!Files.isDirectory(dir)) {
        continue;
      }
      List<Path> files;
      try (Stream<Path> walk = Files.walk(dir)) {
        files =
            walk.filter(Files::isRegularFile)
                .filter(p -> p.getFileName().toString().matches("[0-9a-f]{64}"))
                .toList();
      }
      for (Path file : files) {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
          byte[] buffer = new byte[1 << 16];
          for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
            sha.update(buffer, 0, n);
          }
        }
        assertThat(HexFormat.of().formatHex(sha.digest()))
            .as("content of " + root.relativize(file))
            .isEqualTo(file.getFileName().toString());
        count++;
      }
    }
    return count;
  }

  private static List<String> layerDigests(byte[] manifest) throws IOException {
    var tree = new com.fasterxml.jackson.databind.ObjectMapper().readTree(manifest);
    return java.util.stream.StreamSupport.stream(tree.path("layers").spliterator(), false)
        .map(l -> l.path("digest").asText())
        .toList();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
