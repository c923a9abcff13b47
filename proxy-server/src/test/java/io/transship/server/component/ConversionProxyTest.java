package io.transship.server.component;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.luben.zstd.ZstdInputStream;
import io.transship.oci.Digest;
import io.transship.oci.MediaTypes;
import io.transship.server.config.ConversionConfig;
import io.transship.server.testing.CliRun;
import io.transship.server.testing.FakeUpstream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** gzip → zstd conversion on first pull, against a real transship and an in-process upstream. */
class ConversionProxyTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String CONTAINERD = "containerd/1.6.20";
  static final String ACCEPT_ALL =
      String.join(
          ",",
          MediaTypes.OCI_INDEX,
          MediaTypes.OCI_MANIFEST,
          MediaTypes.DOCKER_MANIFEST_LIST,
          MediaTypes.DOCKER_MANIFEST);

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

  void startProxy(String format, Duration deadline) throws Exception {
    ConversionConfig conversion = new ConversionConfig(deadline, 3, 2, 2, false, true);
    harness =
        ProxyHarness.start(
            ProxyHarness.config(
                upstream, root, Duration.ofMinutes(5), null, null, format, conversion),
            upstream);
  }

  HttpResponse<byte[]> pull(String path, String userAgent, String accept) throws IOException {
    return harness.get(path, "User-Agent", userAgent, "Accept", accept);
  }

  @Test
  void aGzipImageIsServedAsZstdWithTheSameFileTree() throws Exception {
    TestImages.Image image = TestImages.push(upstream, "team/app", "v1", 1, 2, false);
    startProxy("zstd", Duration.ofSeconds(30));
    HttpResponse<byte[]> response = pull("/v2/fake/team/app/manifests/v1", CONTAINERD, ACCEPT_ALL);
    JsonNode manifest = JSON.readTree(response.body());
    assertThat(response.headers().firstValue("Content-Type")).hasValue(MediaTypes.OCI_MANIFEST);
    assertThat(manifest.path("annotations").path("io.transship.source.digest").asText())
        .isEqualTo(image.manifest().toString());
    for (int i = 0; i < 2; i++) {
      JsonNode layer = manifest.path("layers").get(i);
      assertThat(layer.path("mediaType").asText()).isEqualTo(MediaTypes.OCI_LAYER_ZSTD);
      HttpResponse<byte[]> blob =
          harness.get("/v2/fake/team/app/blobs/" + layer.path("digest").asText());
      assertThat(blob.body()).hasSize(layer.path("size").asInt());
      assertThat(Digest.sha256(blob.body()).toString()).isEqualTo(layer.path("digest").asText());
      try (ZstdInputStream unzstd = new ZstdInputStream(new ByteArrayInputStream(blob.body()))) {
        assertThat(unzstd.readAllBytes()).isEqualTo(image.tars().get(i));
      }
    }
    // HEAD by tag and GET by digest agree on the converted manifest (containerd's pattern)
    HttpResponse<byte[]> head =
        harness.head(
            "/v2/fake/team/app/manifests/v1", "User-Agent", CONTAINERD, "Accept", ACCEPT_ALL);
    String digest = head.headers().firstValue("Docker-Content-Digest").orElseThrow();
    assertThat(digest).isEqualTo(Digest.sha256(response.body()).toString());
    assertThat(harness.get("/v2/fake/team/app/manifests/" + digest).body())
        .isEqualTo(response.body());
  }

  @Test
  void concurrentColdPullsConvertEachLayerOnce() throws Exception {
    TestImages.Image image = TestImages.push(upstream, "team/app", "v1", 2, 3, false);
    TestImages.push(upstream, "other/app", "v1", 2, 3, false); // same layers, other repository
    startProxy("zstd", Duration.ofSeconds(30));
    List<String> digests = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<HttpResponse<byte[]>>> pulls = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        String repo = i % 2 == 0 ? "team/app" : "other/app";
        pulls.add(
            pool.submit(() -> pull("/v2/fake/" + repo + "/manifests/v1", CONTAINERD, ACCEPT_ALL)));
      }
      for (Future<HttpResponse<byte[]>> pull : pulls) {
        digests.add(pull.get().headers().firstValue("Docker-Content-Digest").orElseThrow());
      }
    }
    assertThat(digests).doesNotContain(image.manifest().toString()).containsOnly(digests.get(0));
    assertThat(metric("transship_conversions_started_total")).isEqualTo(3.0);
    for (Digest layer : image.layers()) {
      assertThat(upstream.count("GET", "/blobs/" + layer)).isEqualTo(1);
    }
  }

  @Test
  void aSlowConversionServesTheOriginalInTimeAndTheConvertedOneLater() throws Exception {
    TestImages.Image image = TestImages.push(upstream, "team/app", "v1", 3, 1, false);
    upstream.delayMillis("/blobs/", 1500);
    startProxy("zstd", Duration.ofMillis(200));
    HttpResponse<byte[]> first = pull("/v2/fake/team/app/manifests/v1", CONTAINERD, ACCEPT_ALL);
    assertThat(first.body()).isEqualTo(image.manifestBytes());
    String converted = null;
    for (int i = 0; i < 100 && converted == null; i++) {
      HttpResponse<byte[]> again = pull("/v2/fake/team/app/manifests/v1", CONTAINERD, ACCEPT_ALL);
      if (!again
          .headers()
          .firstValue("Docker-Content-Digest")
          .orElseThrow()
          .equals(image.manifest().toString())) {
        converted = new String(again.body(), StandardCharsets.UTF_8);
      } else {
        Thread.sleep(100);
      }
    }
    assertThat(converted).contains(MediaTypes.OCI_LAYER_ZSTD);
    assertThat(metric("transship_conversion_manifests_total{format=\"zstd\",outcome=\"original\"}"))
        .isGreaterThanOrEqualTo(1.0);
  }

  @Test
  void conversionsSurviveARestart() throws Exception {
    TestImages.push(upstream, "team/app", "v1", 4, 2, false);
    startProxy("zstd", Duration.ofSeconds(30));
    String converted =
        pull("/v2/fake/team/app/manifests/v1", CONTAINERD, ACCEPT_ALL)
            .headers()
            .firstValue("Docker-Content-Digest")
            .orElseThrow();
    harness.close();
    startProxy("zstd", Duration.ofSeconds(30));
    upstream.setDown(true);
    HttpResponse<byte[]> again = pull("/v2/fake/team/app/manifests/v1", CONTAINERD, ACCEPT_ALL);
    assertThat(again.headers().firstValue("Docker-Content-Digest")).hasValue(converted);
    assertThat(metric("transship_conversions_started_total")).isZero();
  }

  @Test
  void clientsThatCannotUnpackZstdGetTheOriginal() throws Exception {
    TestImages.Image image = TestImages.push(upstream, "team/app", "v1", 5, 1, false);
    startProxy("zstd", Duration.ofSeconds(30));
    HttpResponse<byte[]> oldDocker =
        pull(
            "/v2/fake/team/app/manifests/v1",
            "docker/20.10.24 go/go1.19.9 git-commit/5d6db84 kernel/5.10",
            ACCEPT_ALL);
    assertThat(oldDocker.body()).isEqualTo(image.manifestBytes());
    HttpResponse<byte[]> noOci =
        pull(
            "/v2/fake/team/app/manifests/v1",
            CONTAINERD,
            MediaTypes.DOCKER_MANIFEST + "," + MediaTypes.DOCKER_MANIFEST_LIST);
    assertThat(noOci.body()).isEqualTo(image.manifestBytes());
    HttpResponse<byte[]> newDocker =
        pull("/v2/fake/team/app/manifests/v1", "docker/27.3.1 go/go1.22.7", ACCEPT_ALL);
    assertThat(new String(newDocker.body(), StandardCharsets.UTF_8))
        .contains(MediaTypes.OCI_LAYER_ZSTD);
  }

  @Test
  void acceptHeadersSentAsSeveralLinesAllCount() throws Exception {
    TestImages.push(upstream, "team/app", "v1", 14, 1, false);
    startProxy("zstd", Duration.ofSeconds(30));
    // skopeo and Docker send one Accept line per media type, OCI not first
    HttpResponse<byte[]> response =
        harness.get(
            "/v2/fake/team/app/manifests/v1",
            "User-Agent",
            "skopeo/1.9.3",
            "Accept",
            MediaTypes.DOCKER_MANIFEST,
            "Accept",
            MediaTypes.OCI_MANIFEST);
    assertThat(new String(response.body(), StandardCharsets.UTF_8))
        .contains(MediaTypes.OCI_LAYER_ZSTD);
  }

  @Test
  void estargzLayersGetATocAndTheConfigGetsTheirNewDiffIds() throws Exception {
    TestImages.Image image = TestImages.push(upstream, "team/app", "v1", 15, 2, false);
    startProxy("none", Duration.ofSeconds(60));
    // Docker 20.10 can unpack eStargz (it is gzip): it gets the converted image
    HttpResponse<byte[]> response =
        pull("/v2/estargz/fake/team/app/manifests/v1", "docker/20.10.24", ACCEPT_ALL);
    JsonNode manifest = JSON.readTree(response.body());
    JsonNode source = JSON.readTree(image.manifestBytes());
    assertThat(manifest.path("config").path("digest"))
        .isNotEqualTo(source.path("config").path("digest"));
    JsonNode config =
        JSON.readTree(
            harness
                .get("/v2/fake/team/app/blobs/" + manifest.path("config").path("digest").asText())
                .body());
    for (int i = 0; i < 2; i++) {
      JsonNode layer = manifest.path("layers").get(i);
      assertThat(layer.path("mediaType").asText()).isEqualTo(MediaTypes.OCI_LAYER_GZIP);
      assertThat(
              layer.path("annotations").path("containerd.io/snapshot/stargz/toc.digest").asText())
          .startsWith("sha256:");
      byte[] blob = harness.get("/v2/fake/team/app/blobs/" + layer.path("digest").asText()).body();
      byte[] tar;
      try (var gunzip = new java.util.zip.GZIPInputStream(new ByteArrayInputStream(blob))) {
        tar = gunzip.readAllBytes();
      }
      assertThat(config.path("rootfs").path("diff_ids").get(i).asText())
          .isEqualTo(Digest.sha256(tar).toString());
      assertThat(layer.path("annotations").path("io.containers.estargz.uncompressed-size").asLong())
          .isEqualTo(tar.length);
      assertThat(new String(tar, StandardCharsets.ISO_8859_1))
          .contains("stargz.index.json")
          .contains(".no.prefetch.landmark");
      // the 51-byte footer: an empty gzip member whose extra field says where the TOC is
      assertThat(blob[blob.length - 51]).isEqualTo((byte) 0x1f);
      assertThat(new String(blob, blob.length - 51 + 16, 16 + 6, StandardCharsets.US_ASCII))
          .endsWith("STARGZ");
      HttpResponse<byte[]> firstTwo =
          harness.get(
              "/v2/fake/team/app/blobs/" + layer.path("digest").asText(), "Range", "bytes=0-1");
      assertThat(firstTwo.statusCode()).isEqualTo(206);
      assertThat(firstTwo.body()).containsExactly(0x1f, 0x8b);
    }
  }

  @Test
  void prefetchRulesPutTheirFilesFirstForMatchingRepositoriesOnly() throws Exception {
    TestImages.push(upstream, "team/app", "v1", 16, 1, false);
    TestImages.push(upstream, "other/app", "v1", 16, 1, false);
    ConversionConfig conversion =
        new ConversionConfig(
            Duration.ofSeconds(60),
            3,
            2,
            2,
            false,
            true,
            6,
            1 << 20,
            List.of(
                new ConversionConfig.PrefetchRule("fake/team/*", List.of("app/file-1600-1.bin"))));
    harness =
        ProxyHarness.start(
            ProxyHarness.config(
                upstream, root, Duration.ofMinutes(5), null, null, "estargz", conversion),
            upstream);
    // the prioritized file comes first (after its parent directory), then the landmark
    assertThat(entryNames("team/app"))
        .startsWith("app/", "app/file-1600-1.bin", ".prefetch.landmark");
    assertThat(entryNames("other/app").get(0)).isEqualTo(".no.prefetch.landmark");
  }

  private List<String> entryNames(String repo) throws Exception {
    JsonNode manifest =
        JSON.readTree(pull("/v2/fake/" + repo + "/manifests/v1", CONTAINERD, ACCEPT_ALL).body());
    byte[] blob =
        harness
            .get(
                "/v2/fake/"
                    + repo
                    + "/blobs/"
                    + manifest.path("layers").get(0).path("digest").asText())
            .body();
    List<String> names = new ArrayList<>();
    try (var tar =
        new org.apache.commons.compress.archivers.tar.TarArchiveInputStream(
            new java.util.zip.GZIPInputStream(new ByteArrayInputStream(blob)))) {
      for (var entry = tar.getNextEntry(); entry != null; entry = tar.getNextEntry()) {
        names.add(entry.getName());
      }
    }
    return names;
  }

  @Test
  void theUpstreamDigestIsServedUnchanged() throws Exception {
    TestImages.Image image = TestImages.push(upstream, "team/app", "v1", 6, 1, false);
    startProxy("zstd", Duration.ofSeconds(30));
    pull("/v2/fake/team/app/manifests/v1", CONTAINERD, ACCEPT_ALL);
    HttpResponse<byte[]> byDigest =
        pull("/v2/fake/team/app/manifests/" + image.manifest(), CONTAINERD, ACCEPT_ALL);
    assertThat(byDigest.body()).isEqualTo(image.manifestBytes());
  }

  @Test
  void aDockerSchema2ImageBecomesOciWithTheSameConfig() throws Exception {
    TestImages.Image image = TestImages.push(upstream, "team/app", "v1", 7, 1, true);
    startProxy("zstd", Duration.ofSeconds(30));
    JsonNode manifest =
        JSON.readTree(pull("/v2/fake/team/app/manifests/v1", CONTAINERD, ACCEPT_ALL).body());
    JsonNode source = JSON.readTree(image.manifestBytes());
    assertThat(manifest.path("mediaType").asText()).isEqualTo(MediaTypes.OCI_MANIFEST);
    assertThat(manifest.path("config").path("mediaType").asText()).isEqualTo(MediaTypes.OCI_CONFIG);
    assertThat(manifest.path("config").path("digest"))
        .isEqualTo(source.path("config").path("digest"));
  }

  @Test
  void aMultiArchIndexIsConvertedChildByChildLeavingAttestationsAlone() throws Exception {
    TestImages.Image amd64 = TestImages.push(upstream, "team/app", null, 8, 1, false);
    TestImages.Image arm64 = TestImages.push(upstream, "team/app", null, 9, 1, false);
    TestImages.Image attestation = TestImages.push(upstream, "team/app", null, 10, 1, false);
    String index =
        "{\"schemaVersion\":2,\"mediaType\":\""
            + MediaTypes.OCI_INDEX
            + "\",\"manifests\":["
            + child(amd64, "{\"architecture\":\"amd64\",\"os\":\"linux\"}", "")
            + ","
            + child(arm64, "{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}", "")
            + ","
            + child(
                attestation,
                "{\"architecture\":\"unknown\",\"os\":\"unknown\"}",
                ",\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"}")
            + "]}";
    upstream.putManifest(
        "team/app", "multi", index.getBytes(StandardCharsets.UTF_8), MediaTypes.OCI_INDEX);
    startProxy("zstd", Duration.ofSeconds(30));
    JsonNode converted =
        JSON.readTree(pull("/v2/fake/team/app/manifests/multi", CONTAINERD, ACCEPT_ALL).body());
    JsonNode children = converted.path("manifests");
    assertThat(children.get(0).path("digest").asText()).isNotEqualTo(amd64.manifest().toString());
    assertThat(children.get(1).path("digest").asText()).isNotEqualTo(arm64.manifest().toString());
    assertThat(children.get(1).path("platform").path("variant").asText()).isEqualTo("v8");
    assertThat(children.get(2).path("digest").asText())
        .isEqualTo(attestation.manifest().toString());
    JsonNode child =
        JSON.readTree(
            harness
                .get("/v2/fake/team/app/manifests/" + children.get(0).path("digest").asText())
                .body());
    assertThat(child.path("layers").get(0).path("mediaType").asText())
        .isEqualTo(MediaTypes.OCI_LAYER_ZSTD);
  }

  @ParameterizedTest
  @ValueSource(strings = {"zstd", "estargz"})
  void aDecompressionBombIsAbandonedAtTheLimitAndServedAsTheUpstreamGaveIt(String format)
      throws Exception {
    byte[] bomb = TestImages.bombLayer(1024); // 1 GiB inflated from about 1 MiB
    Digest layer =
        TestImages.pushSingleLayer(
            upstream, "team/bomb", "v1", bomb, Digest.parse("sha256:" + "2".repeat(64)));
    startProxy(format, Duration.ofSeconds(60));
    HttpResponse<byte[]> manifest = pull("/v2/fake/team/bomb/manifests/v1", CONTAINERD, ACCEPT_ALL);
    assertThat(manifest.statusCode()).isEqualTo(200);
    assertThat(new String(manifest.body(), StandardCharsets.UTF_8))
        .as("the layer keeps its original form")
        .contains(layer.toString());
    assertThat(harness.admin("/metrics"))
        .contains(
            "transship_conversions_failed_total{format=\""
                + format
                + "\",reason=\"LayerLimitException\"} 1.0");
    HttpResponse<byte[]> blob = harness.get("/v2/fake/team/bomb/blobs/" + layer);
    assertThat(blob.statusCode()).isEqualTo(200);
    assertThat(Digest.sha256(blob.body())).isEqualTo(layer);
  }

  @Test
  void aHostileIndexWithThousandsOfChildrenCostsOneUpstreamRequest() throws Exception {
    StringBuilder children = new StringBuilder();
    for (int i = 0; i < 2000; i++) {
      children
          .append(i == 0 ? "" : ",")
          .append("{\"mediaType\":\"")
          .append(MediaTypes.OCI_MANIFEST)
          .append("\",\"digest\":\"")
          .append(Digest.sha256(("child " + i).getBytes(StandardCharsets.UTF_8)))
          .append("\",\"size\":100,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}");
    }
    byte[] index =
        ("{\"schemaVersion\":2,\"mediaType\":\""
                + MediaTypes.OCI_INDEX
                + "\",\"manifests\":["
                + children
                + "]}")
            .getBytes(StandardCharsets.UTF_8);
    upstream.putManifest("team/hostile", "v1", index, MediaTypes.OCI_INDEX);
    startProxy("zstd", Duration.ofSeconds(30));
    HttpResponse<byte[]> response =
        pull("/v2/fake/team/hostile/manifests/v1", CONTAINERD, ACCEPT_ALL);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo(index);
    assertThat(upstream.count("GET", "/manifests/")).as("upstream manifest GETs").isEqualTo(1);
  }

  @Test
  void aLayerWhoseDiffIdDoesNotMatchIsNotConverted() throws Exception {
    byte[] tar = TestImages.tar(77, 2, 1000);
    byte[] gz = TestImages.gzip(tar);
    Digest layer = upstream.putBlob(gz);
    byte[] config =
        ("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" + "1".repeat(64) + "\"]}}")
            .getBytes(StandardCharsets.UTF_8);
    Digest configDigest = upstream.putBlob(config);
    byte[] manifest =
        ("{\"schemaVersion\":2,\"mediaType\":\""
                + MediaTypes.OCI_MANIFEST
                + "\",\"config\":{\"mediaType\":\""
                + MediaTypes.OCI_CONFIG
                + "\",\"digest\":\""
                + configDigest
                + "\",\"size\":"
                + config.length
                + "},\"layers\":[{\"mediaType\":\""
                + MediaTypes.OCI_LAYER_GZIP
                + "\",\"digest\":\""
                + layer
                + "\",\"size\":"
                + gz.length
                + "}]}")
            .getBytes(StandardCharsets.UTF_8);
    upstream.putManifest("team/app", "lying", manifest, MediaTypes.OCI_MANIFEST);
    startProxy("zstd", Duration.ofSeconds(30));
    assertThat(pull("/v2/fake/team/app/manifests/lying", CONTAINERD, ACCEPT_ALL).body())
        .isEqualTo(manifest);
    assertThat(harness.admin("/metrics"))
        .contains(
            "transship_conversions_failed_total{format=\"zstd\",reason=\"DiffIdMismatchException\"}");
  }

  @Test
  void thePathSelectorOverridesTheUpstreamDefault() throws Exception {
    TestImages.Image image = TestImages.push(upstream, "team/app", "v1", 11, 1, false);
    startProxy("none", Duration.ofSeconds(30));
    assertThat(pull("/v2/fake/team/app/manifests/v1", CONTAINERD, ACCEPT_ALL).body())
        .isEqualTo(image.manifestBytes());
    assertThat(
            new String(
                pull("/v2/zstd/fake/team/app/manifests/v1", CONTAINERD, ACCEPT_ALL).body(),
                StandardCharsets.UTF_8))
        .contains(MediaTypes.OCI_LAYER_ZSTD);
    assertThat(pull("/v2/none/fake/team/app/manifests/v1", CONTAINERD, ACCEPT_ALL).body())
        .isEqualTo(image.manifestBytes());
  }

  @Test
  void warmConvertsAheadAndResolveReportsTheConvertedDigest() throws Exception {
    TestImages.push(upstream, "team/app", "v1", 12, 2, false);
    startProxy("zstd", Duration.ofSeconds(30));
    String before = admin("GET", "/resolve?image=fake/team/app:v1&format=zstd");
    assertThat(before).contains("\"converted\":null");
    String progress = admin("POST", "/warm?image=fake/team/app:v1&format=zstd");
    assertThat(progress).contains("\"event\":\"layer-done\"").contains("\"event\":\"done\"");
    Matcher done =
        Pattern.compile("\"event\":\"done\".*\"converted\":\"(sha256:[a-f0-9]{64})\"")
            .matcher(progress);
    assertThat(done.find()).isTrue();
    String after = admin("GET", "/resolve?image=fake/team/app:v1&format=zstd");
    assertThat(after).contains("\"converted\":\"" + done.group(1) + "\"");
    HttpResponse<byte[]> pulled = pull("/v2/fake/team/app/manifests/v1", CONTAINERD, ACCEPT_ALL);
    assertThat(pulled.headers().firstValue("Docker-Content-Digest")).hasValue(done.group(1));
  }

  @Test
  void theCliWarmsAndResolvesAnImageNamedAsItIsPulledThroughTheProxy() throws Exception {
    TestImages.push(upstream, "team/app", "v1", 14, 1, false);
    startProxy("zstd", Duration.ofSeconds(30));
    String admin = "http://127.0.0.1:" + harness.proxy.adminPort();
    // the name a user pulls: the proxy's own host:port, then alias/repository:tag
    String pulled = "127.0.0.1:" + harness.proxy.port() + "/fake/team/app:v1";

    CliRun before = CliRun.of("resolve", "--admin", admin, pulled);
    CliRun warm = CliRun.of("warm", "--admin", admin, pulled);
    CliRun after = CliRun.of("resolve", "--admin", admin, pulled);
    CliRun json = CliRun.of("resolve", "--admin", admin, "--json", "fake/team/app:v1");

    assertThat(before.exit()).as(before.err()).isEqualTo(3);
    assertThat(result(before)).isEmpty();
    assertThat(warm.exit()).as(warm.err()).isZero();
    assertThat(warm.err()).contains("layer ");
    assertThat(result(warm)).hasSize(1);
    String digest = result(warm).get(0);
    assertThat(digest).matches("sha256:[a-f0-9]{64}");
    assertThat(after.exit()).isZero();
    assertThat(result(after)).containsExactly(digest);
    assertThat(JSON.readTree(result(json).get(0)).path("converted").asText()).isEqualTo(digest);
  }

  @Test
  void warmingAPlatformTheIndexDoesNotHaveFailsNamingThoseItHas() throws Exception {
    TestImages.Image amd64 = TestImages.push(upstream, "team/app", null, 15, 1, false);
    String index =
        "{\"schemaVersion\":2,\"mediaType\":\""
            + MediaTypes.OCI_INDEX
            + "\",\"manifests\":["
            + child(amd64, "{\"architecture\":\"amd64\",\"os\":\"linux\"}", "")
            + "]}";
    upstream.putManifest(
        "team/app", "multi", index.getBytes(StandardCharsets.UTF_8), MediaTypes.OCI_INDEX);
    startProxy("zstd", Duration.ofSeconds(30));
    String admin = "http://127.0.0.1:" + harness.proxy.adminPort();

    CliRun run =
        CliRun.of("warm", "--admin", admin, "--platform", "linux/s390x", "fake/team/app:multi");

    assertThat(run.exit()).isEqualTo(1);
    assertThat(result(run)).isEmpty();
    assertThat(run.err()).contains("no platform linux/s390x").contains("linux/amd64");
  }

  @Test
  void evictedConvertedBlobsAndManifestsAreRegeneratedByteForByte() throws Exception {
    TestImages.push(upstream, "team/app", "v1", 13, 1, false);
    startProxy("zstd", Duration.ofSeconds(30));
    HttpResponse<byte[]> converted = pull("/v2/fake/team/app/manifests/v1", CONTAINERD, ACCEPT_ALL);
    String manifestDigest = converted.headers().firstValue("Docker-Content-Digest").orElseThrow();
    String layerDigest =
        JSON.readTree(converted.body()).path("layers").get(0).path("digest").asText();
    byte[] layer = harness.get("/v2/fake/team/app/blobs/" + layerDigest).body();
    harness.close();
    // what eviction does: the converted objects are gone from disk
    Files.delete(
        root.resolve(
            "blobs/sha256/" + layerDigest.substring(7, 9) + "/" + layerDigest.substring(7)));
    Files.delete(root.resolve("manifests/sha256/" + manifestDigest.substring(7)));
    startProxy("zstd", Duration.ofSeconds(30));
    HttpResponse<byte[]> manifestAgain =
        harness.get("/v2/fake/team/app/manifests/" + manifestDigest);
    assertThat(manifestAgain.statusCode()).isEqualTo(200);
    assertThat(manifestAgain.body()).isEqualTo(converted.body());
    HttpResponse<byte[]> layerAgain = harness.get("/v2/fake/team/app/blobs/" + layerDigest);
    assertThat(layerAgain.statusCode()).isEqualTo(200);
    assertThat(layerAgain.body()).isEqualTo(layer);
  }

  private String admin(String method, String path) throws Exception {
    return harness
        .client
        .send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + harness.proxy.adminPort() + path))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  /** The command's stdout without the in-process proxy's log lines (they share System.out). */
  private static List<String> result(CliRun run) {
    return run.out().lines().filter(l -> !l.matches("^\\d{4}-\\d\\d-\\d\\dT.*")).toList();
  }

  private static String child(TestImages.Image image, String platform, String extra) {
    return "{\"mediaType\":\""
        + MediaTypes.OCI_MANIFEST
        + "\",\"digest\":\""
        + image.manifest()
        + "\",\"size\":"
        + image.manifestBytes().length
        + ",\"platform\":"
        + platform
        + extra
        + "}";
  }

  /** The sum of a series over its label sets (series exist at zero for every format). */
  private double metric(String name) throws IOException {
    String scrape = harness.admin("/metrics");
    double sum = 0;
    for (String line : scrape.split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }
}
