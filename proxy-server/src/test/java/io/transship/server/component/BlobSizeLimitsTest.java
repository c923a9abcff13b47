package io.transship.server.component;

import static org.assertj.core.api.Assertions.assertThat;

import io.transship.oci.Digest;
import io.transship.server.config.ConversionConfig;
import io.transship.server.config.ServerLimits;
import io.transship.server.config.TransshipConfig;
import io.transship.server.testing.FakeUpstream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Size discipline of upstream blob downloads: an upstream that never stops sending (chunked, no
 * {@code Content-Length}) is cut off at the descriptor's size or at {@code cache.max-blob-bytes},
 * and nothing it sent is stored.
 */
class BlobSizeLimitsTest {
  private static final long MAX_BLOB = 1 << 20;

  /** What the upstream may push into socket buffers before transship's abort reaches it. */
  private static final long SOCKET_SLACK = 16L << 20;

  @TempDir Path root;
  FakeUpstream upstream;
  ProxyHarness harness;

  @BeforeEach
  void start() {
    upstream = FakeUpstream.start();
  }

  @AfterEach
  void stop() throws IOException {
    if (harness != null) {
      harness.close();
    }
    upstream.close();
  }

  private void startProxy(String format, long maxBlob) throws Exception {
    TransshipConfig base =
        ProxyHarness.config(
            upstream,
            root,
            Duration.ofMinutes(1),
            null,
            null,
            format,
            new ConversionConfig(Duration.ofSeconds(30), 3, 2, 2, false, true));
    harness =
        ProxyHarness.start(
            new TransshipConfig(
                base.listen(),
                base.adminListen(),
                base.storage(),
                base.tagTtl(),
                base.defaultUpstream(),
                base.upstreams(),
                base.conversion(),
                ServerLimits.defaults(),
                maxBlob),
            upstream);
  }

  @Test
  void anEndlessBlobOfUnknownSizeStopsAtTheMaximumAndIsNotStored() throws Exception {
    byte[] content = new byte[100_000];
    new Random(7).nextBytes(content);
    Digest digest = upstream.putBlob(content);
    upstream.endlessBody("/blobs/" + digest, 1);
    startProxy("none", MAX_BLOB);

    HttpResponse<byte[]> first = harness.get("/v2/fake/team/app/blobs/" + digest);
    assertThat(first.statusCode()).isEqualTo(502);
    assertThat(new String(first.body(), StandardCharsets.UTF_8))
        .contains("wrong size")
        .contains("cache.max-blob-bytes");
    System.out.printf(
        "[sizes] endless blob: upstream sent %d bytes before transship hung up (limit %d)%n",
        upstream.endlessBytesSent(), MAX_BLOB);
    assertThat(upstream.endlessBytesSent()).isLessThanOrEqualTo(MAX_BLOB + SOCKET_SLACK);
    assertThat(storedBlob(digest)).as("nothing stored").doesNotExist();

    // the upstream behaves again: fetched anew, since nothing was kept
    HttpResponse<byte[]> second = harness.get("/v2/fake/team/app/blobs/" + digest);
    assertThat(second.statusCode()).isEqualTo(200);
    assertThat(second.body()).isEqualTo(content);
    assertThat(upstream.count("GET", "/blobs/" + digest)).isEqualTo(2);
    // the client has the last byte once the digest checked; the spool's move into the store
    // follows it
    for (int i = 0; i < 100 && !spoolFiles().isEmpty(); i++) {
      Thread.sleep(20);
    }
    assertThat(spoolFiles()).isEmpty();
  }

  @Test
  void anEndlessLayerStopsAtItsDescriptorSizeAndTheImageIsServedUnconverted() throws Exception {
    TestImages.Image image = TestImages.push(upstream, "team/app", "v1", 3, 1, false);
    Digest layer = image.layers().get(0);
    upstream.endlessBody("/blobs/" + layer, 1);
    startProxy("zstd", 256L << 20); // far above what the descriptor allows

    HttpResponse<byte[]> manifest =
        harness.get(
            "/v2/fake/team/app/manifests/v1",
            "User-Agent",
            "containerd/2.0.0",
            "Accept",
            "application/vnd.oci.image.manifest.v1+json");
    assertThat(manifest.statusCode()).isEqualTo(200);
    assertThat(manifest.body())
        .as("the conversion failed: original")
        .isEqualTo(image.manifestBytes());
    long layerSize = harness.get("/v2/fake/team/app/blobs/" + layer).body().length;
    System.out.printf(
        "[sizes] endless layer of %d bytes: upstream sent %d bytes before transship hung up%n",
        layerSize, upstream.endlessBytesSent());
    assertThat(upstream.endlessBytesSent()).isLessThanOrEqualTo(layerSize + SOCKET_SLACK);
  }

  private Path storedBlob(Digest digest) {
    return root.resolve("blobs/sha256")
        .resolve(digest.encoded().substring(0, 2))
        .resolve(digest.encoded());
  }

  private java.util.List<Path> spoolFiles() throws IOException {
    Path tmp = root.resolve(".tmp");
    if (!Files.isDirectory(tmp)) {
      return java.util.List.of();
    }
    try (Stream<Path> files = Files.walk(tmp)) {
      return files
          .filter(Files::isRegularFile)
          .filter(p -> p.toString().endsWith(".part"))
          .toList();
    }
  }
}
