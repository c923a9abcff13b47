package io.transship.server.component;

import static io.transship.server.component.ConversionProxyTest.ACCEPT_ALL;
import static io.transship.server.component.ConversionProxyTest.CONTAINERD;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.transship.oci.Digest;
import io.transship.oci.MediaTypes;
import io.transship.server.config.ConversionConfig;
import io.transship.server.testing.FakeUpstream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Converted images stay pullable whatever happens to the content under them: real LRU eviction
 * under a small {@code max-bytes}, transient upstream failures during the first conversion, layers
 * shared by different images, and stampedes of cold pulls.
 */
class ContentLifetimeTest {
  private static final ObjectMapper JSON = new ObjectMapper();

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

  private void startProxy(String format, long maxBytes) throws Exception {
    ConversionConfig conversion =
        new ConversionConfig(Duration.ofSeconds(30), 3, 2, 2, false, true);
    harness =
        ProxyHarness.start(
            ProxyHarness.config(
                upstream, root, maxBytes, Duration.ofMinutes(5), null, null, format, conversion),
            upstream);
  }

  /** Pulls as a client does: the manifest by tag, then config and every layer by digest. */
  private Map<String, byte[]> pullImage(String repo, String tag) throws IOException {
    HttpResponse<byte[]> manifest =
        harness.get(
            "/v2/fake/" + repo + "/manifests/" + tag,
            "User-Agent",
            CONTAINERD,
            "Accept",
            ACCEPT_ALL);
    assertThat(manifest.statusCode()).as("manifest %s:%s", repo, tag).isEqualTo(200);
    Map<String, byte[]> pulled = new LinkedHashMap<>();
    pulled.put("manifest", manifest.body());
    JsonNode json = JSON.readTree(manifest.body());
    List<String> blobs = new ArrayList<>();
    blobs.add(json.path("config").path("digest").asText());
    json.path("layers").forEach(layer -> blobs.add(layer.path("digest").asText()));
    for (String digest : blobs) {
      HttpResponse<byte[]> blob = harness.get("/v2/fake/" + repo + "/blobs/" + digest);
      assertThat(blob.statusCode()).as("blob %s of %s:%s", digest, repo, tag).isEqualTo(200);
      assertThat(Digest.sha256(blob.body()).toString()).isEqualTo(digest);
      pulled.put(digest, blob.body());
    }
    return pulled;
  }

  private static List<String> layerTypes(byte[] manifest) throws IOException {
    List<String> types = new ArrayList<>();
    JSON.readTree(manifest).path("layers").forEach(l -> types.add(l.path("mediaType").asText()));
    return types;
  }

  private double metric(String name) throws IOException {
    double sum = 0;
    for (String line : harness.admin("/metrics").split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  @Test
  void realEvictionUnderASmallBoundNeverBreaksAConvertedImage() throws Exception {
    TestImages.push(upstream, "team/a", "v1", 31, 2, false);
    TestImages.push(upstream, "team/b", "v1", 32, 2, false);
    for (String format : List.of("zstd", "estargz")) {
      if (harness != null) {
        harness.close();
      }
      // each image is ~2.4 MB gzip + ~2.4 MB converted: pulling B evicts most of A
      startProxy(format, 4_500_000);
      Map<String, byte[]> first = pullImage("team/a", "v1");
      assertThat(layerTypes(first.get("manifest")))
          .allMatch(t -> !t.equals(MediaTypes.OCI_LAYER_GZIP) || format.equals("estargz"));
      pullImage("team/b", "v1");
      assertThat(metric("transship_cache_evictions_total")).isPositive();
      Map<String, byte[]> again = pullImage("team/a", "v1");
      assertThat(again.keySet()).isEqualTo(first.keySet());
      first.forEach((what, bytes) -> assertThat(again.get(what)).as(what).isEqualTo(bytes));
      // and after a restart, with whatever eviction left on disk
      harness.close();
      startProxy(format, 4_500_000);
      pullImage("team/b", "v1");
      Map<String, byte[]> afterRestart = pullImage("team/a", "v1");
      first.forEach((what, bytes) -> assertThat(afterRestart.get(what)).as(what).isEqualTo(bytes));
      harness.close();
      harness = null;
    }
  }

  @Test
  void aTransientUpstreamFailureDuringConversionIsRetriedOnALaterPull() throws Exception {
    TestImages.Image image = TestImages.push(upstream, "team/app", "v1", 33, 2, false);
    startProxy("zstd", 0);
    // more 503s than the upstream client's attempts: the first conversion can't get layer 1
    upstream.failWith("/blobs/" + image.layers().get(1), 503, 100, null);
    HttpResponse<byte[]> first =
        harness.get(
            "/v2/fake/team/app/manifests/v1", "User-Agent", CONTAINERD, "Accept", ACCEPT_ALL);
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(layerTypes(first.body())).contains(MediaTypes.OCI_LAYER_GZIP);
    upstream.clearFaults();
    harness.close();
    startProxy("zstd", 0); // not remembered across a restart either
    Map<String, byte[]> later = pullImage("team/app", "v1");
    assertThat(layerTypes(later.get("manifest")))
        .containsOnly(MediaTypes.OCI_LAYER_ZSTD)
        .hasSize(2);
  }

  @Test
  void aLayerIsConvertedWhileItDownloads() throws Exception {
    TestImages.Image image = TestImages.push(upstream, "team/app", "v1", 37, 1, false);
    startProxy("zstd", 0);
    Digest layer = image.layers().get(0);
    upstream.pauseMidBody("/blobs/" + layer, 3000, 1);
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<Map<String, byte[]>> pull = pool.submit(() -> pullImage("team/app", "v1"));
      for (int i = 0; i < 100 && metric("transship_conversions_started_total") < 1; i++) {
        Thread.sleep(20);
      }
      assertThat(metric("transship_conversions_started_total")).isEqualTo(1.0);
      // the source is still arriving (paused half-way): the conversion did not wait for it
      Path stored =
          root.resolve("blobs/sha256/" + layer.encoded().substring(0, 2) + "/" + layer.encoded());
      assertThat(stored).doesNotExist();
      assertThat(layerTypes(pull.get().get("manifest"))).containsOnly(MediaTypes.OCI_LAYER_ZSTD);
    }
    assertThat(upstream.count("GET", "/blobs/" + layer)).isEqualTo(1);
  }

  @Test
  void wrongBytesFromTheUpstreamNeverBecomeAConversion() throws Exception {
    TestImages.Image image = TestImages.push(upstream, "team/app", "v1", 38, 1, false);
    startProxy("zstd", 0);
    upstream.corruptBody("/blobs/" + image.layers().get(0), 100);
    HttpResponse<byte[]> first =
        harness.get(
            "/v2/fake/team/app/manifests/v1", "User-Agent", CONTAINERD, "Accept", ACCEPT_ALL);
    assertThat(layerTypes(first.body())).containsOnly(MediaTypes.OCI_LAYER_GZIP);
    upstream.clearFaults();
    assertThat(layerTypes(pullImage("team/app", "v1").get("manifest")))
        .containsOnly(MediaTypes.OCI_LAYER_ZSTD);
  }

  @Test
  void aLayerSharedByDifferentImagesIsConvertedOnce() throws Exception {
    List<byte[]> base = List.of(TestImages.tar(341, 3, 200_000), TestImages.tar(342, 3, 200_000));
    List<byte[]> x = new ArrayList<>(base);
    x.add(TestImages.tar(343, 3, 200_000));
    List<byte[]> y = new ArrayList<>(base);
    y.add(TestImages.tar(344, 3, 200_000));
    TestImages.pushTars(upstream, "team/x", "v1", x, false);
    TestImages.pushTars(upstream, "other/y", "v2", y, true); // another repository and schema
    startProxy("zstd", 0);
    Map<String, byte[]> pulledX = pullImage("team/x", "v1");
    Map<String, byte[]> pulledY = pullImage("other/y", "v2");
    assertThat(metric("transship_conversions_started_total")).isEqualTo(4.0);
    List<String> layersX = new ArrayList<>(pulledX.keySet()).subList(2, 4);
    assertThat(new ArrayList<>(pulledY.keySet()).subList(2, 4)).isEqualTo(layersX);
  }

  @Test
  void aStampedeOfColdPullsCostsOneUpstreamRequestPerTagManifestAndBlob() throws Exception {
    TestImages.Image image = TestImages.push(upstream, "team/app", "v1", 35, 2, false);
    startProxy("none", 0);
    upstream.delayMillis("/manifests/", 300);
    upstream.delayMillis("/blobs/", 300);
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Map<String, byte[]>>> pulls = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        pulls.add(pool.submit(() -> pullImage("team/app", "v1")));
      }
      for (Future<Map<String, byte[]>> pull : pulls) {
        assertThat(pull.get().get("manifest")).isEqualTo(image.manifestBytes());
      }
    }
    assertThat(upstream.count("GET", "/manifests/v1")).isEqualTo(1);
    for (Digest layer : image.layers()) {
      assertThat(upstream.count("GET", "/blobs/" + layer)).isEqualTo(1);
    }
    // by digest too
    upstream.resetCounts();
    harness.close();
    java.nio.file.Files.walk(root.resolve("manifests"))
        .sorted(java.util.Comparator.reverseOrder())
        .forEach(p -> p.toFile().delete());
    startProxy("none", 0);
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<HttpResponse<byte[]>>> pulls = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        pulls.add(
            pool.submit(() -> harness.get("/v2/fake/team/app/manifests/" + image.manifest())));
      }
      for (Future<HttpResponse<byte[]>> pull : pulls) {
        assertThat(pull.get().statusCode()).isEqualTo(200);
      }
    }
    assertThat(upstream.count("GET", "/manifests/" + image.manifest())).isEqualTo(1);
  }

  @Test
  void anExpiredTagIsRevalidatedByOneHeadWhateverTheRequestRate() throws Exception {
    TestImages.push(upstream, "team/app", "v1", 36, 1, false);
    ConversionConfig conversion = ConversionConfig.defaults();
    harness =
        ProxyHarness.start(
            ProxyHarness.config(
                upstream, root, 0, Duration.ofMillis(1), null, null, "none", conversion),
            upstream);
    assertThat(harness.get("/v2/fake/team/app/manifests/v1").statusCode()).isEqualTo(200);
    upstream.resetCounts();
    upstream.delayMillis("/manifests/", 500);
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<HttpResponse<byte[]>>> pulls = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        pulls.add(pool.submit(() -> harness.get("/v2/fake/team/app/manifests/v1")));
      }
      for (Future<HttpResponse<byte[]>> pull : pulls) {
        assertThat(pull.get().statusCode()).isEqualTo(200);
      }
    }
    assertThat(upstream.count(null, "/manifests/v1")).isEqualTo(1);
  }
}
