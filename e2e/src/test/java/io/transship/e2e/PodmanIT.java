package io.transship.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * podman 4.3 pulls through the proxy, each pull into a fresh private vfs store ({@link Podman}): by
 * direct reference through a pass-through proxy, as a {@code registries.conf} mirror of the
 * upstream, and through a {@code format: zstd} proxy. podman does not compare layers with the
 * config's diff_ids, so the tests do: containers/storage records the sha256 of every tar it applied
 * ({@code layers.json}), and the image's root file system ({@code podman image mount}) must equal
 * the tree the layers describe, hardlinks included.
 */
@Tag("e2e")
@ExtendWith(DumpLogsOnFailure.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PodmanIT {
  private static final String OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
  private static final String SOURCE_DIGEST = "io.transship.source.digest";
  private static final String APP_V1 = TestImages.APP_REPO + ":v1";
  private static final String PROXY_UA = "transship/0.1";
  private static final ObjectMapper JSON = new ObjectMapper();

  private static E2eEnv env;
  private static TestImages images;
  private static Skopeo skopeo;
  private static DockerRegistry registry;

  /** {@code rootfs.diff_ids} of the app's config blob as the upstream serves it. */
  private static List<String> upstreamDiffIds;

  @BeforeAll
  static void setUp() {
    Tools.require("podman", "runc", "skopeo", "docker-registry", "tar");
    Tools.requireRoot("podman stores images as root here");
    env = E2eEnv.create("podman");
    images = TestImages.build(env);
    skopeo = new Skopeo(env);
    registry = DockerRegistry.plain(env, "lab");
    images.pushApp(skopeo, registry);
    String config = images.appConfig().digest();
    var r = Http.get(registry.url() + "/v2/" + TestImages.APP_REPO + "/blobs/" + config);
    assertThat(r.statusCode()).as("GET config %s from the upstream", config).isEqualTo(200);
    assertThat(sha256(r.body())).isEqualTo(config);
    List<String> ids = new ArrayList<>();
    json(r.body()).path("rootfs").path("diff_ids").forEach(n -> ids.add(n.asText()));
    upstreamDiffIds = List.copyOf(ids);
    assertThat(upstreamDiffIds)
        .as("diff_ids of the upstream's config")
        .hasSize(images.appLayers().size())
        .isEqualTo(images.appLayers().stream().map(TestImages.Blob::diffId).toList());
  }

  @AfterAll
  static void tearDown() {
    if (env != null) {
      env.close();
    }
  }

  @Test
  @Order(1)
  void directPullFromTheUpstreamGivesTheExpectedImage() {
    // proves the harness: what podman makes of the original image is the expected tree
    try (Podman podman = Podman.vfs(env, "direct")) {
      String ref = registry.hostPort() + "/" + APP_V1;
      podman.pull(ref, "--tls-verify=false").ok();
      assertImage(
          podman, ref, images.appManifest().digest(), gzipLayers(), Podman.COMPRESSION_GZIP);
    }
  }

  @Test
  @Order(2)
  void pullByReferenceThroughAPassThroughProxy() {
    Transship proxy = Transship.with("lab", registry).start(env, "none");
    long regMark = registry.daemon().logMark();
    long proxyMark = proxy.daemon().logMark();
    try (Podman podman = Podman.vfs(env, "none")) {
      String ref = proxy.hostPort() + "/lab/" + APP_V1;
      podman.pull(ref, "--tls-verify=false").ok();
      assertImage(
          podman, ref, images.appManifest().digest(), gzipLayers(), Podman.COMPRESSION_GZIP);
    }
    assertProxyServedTheBlobs(proxy, proxyMark, gzipLayers());
    assertUpstreamSawOnlyTheProxy(regMark, proxy, proxyMark);
    proxy.stop();
  }

  @Test
  @Order(3)
  void pullThroughTheProxyAsARegistriesConfMirror() {
    Transship proxy = Transship.with("lab", registry).start(env, "mirror");
    long regMark = registry.daemon().logMark();
    long proxyMark = proxy.daemon().logMark();
    Map<String, Double> metricsBefore = proxy.metricSamples();
    try (Podman podman = Podman.vfs(env, "mirror")) {
      podman.registries(Podman.mirrorToml(registry.hostPort(), proxy.hostPort() + "/lab"));
      String ref = registry.hostPort() + "/" + APP_V1;
      // no --tls-verify=false: registries.conf alone says both are plain HTTP
      Cmd.Result pull = podman.pull(ref).ok();
      System.out.println("[e2e] podman pull via mirror: " + pull.ms() + " ms");
      assertUpstreamSawOnlyTheProxy(regMark, proxy, proxyMark);
      assertProxyServedTheBlobs(proxy, proxyMark, gzipLayers());
      assertImage(
          podman, ref, images.appManifest().digest(), gzipLayers(), Podman.COMPRESSION_GZIP);
      assertThat(podman.podman("images", "--format", "{{.Repository}}:{{.Tag}}").ok().stdout())
          .as("podman images: the image keeps the name it was pulled by, not the mirror's")
          .contains(ref);
    }
    Map<String, String> grown = Transship.grownCounters(metricsBefore, proxy.metricSamples());
    grown.keySet().removeIf(k -> !k.startsWith("transship_"));
    System.out.println("[e2e] mirror pull: proxy counters grown: " + grown);
    assertThat(grown.keySet())
        .as("proxy request counters for blobs that grew during the mirror pull: %s", grown)
        .anyMatch(k -> k.startsWith("transship_requests") && k.contains("blob"));
    proxy.stop();
  }

  @Test
  @Order(4)
  void pullThroughAZstdProxyGetsZstdLayersWithTheOriginalDiffIds() {
    Transship proxy =
        Transship.with("lab", registry)
            .format("zstd")
            .yaml("conversion: { deadline: 60s }")
            .start(env, "zstd");
    long regMark = registry.daemon().logMark();
    long proxyMark = proxy.daemon().logMark();
    try (Podman podman = Podman.vfs(env, "zstd")) {
      String ref = proxy.hostPort() + "/lab/" + APP_V1;
      podman.pull(ref, "--tls-verify=false").ok();

      byte[] served = skopeo.inspectRaw(ref);
      JsonNode m = json(served);
      assertThat(m.path("annotations").path(SOURCE_DIGEST).asText())
          .as("%s of the manifest the zstd proxy serves for %s", SOURCE_DIGEST, APP_V1)
          .isEqualTo(images.appManifest().digest());
      assertThat(m.path("layers").findValuesAsText("mediaType"))
          .as("layer media types served by the zstd proxy")
          .hasSize(images.appLayers().size())
          .containsOnly(OCI_LAYER_ZSTD);
      assertThat(m.path("config").path("digest").asText())
          .as("config blob (unchanged by the conversion)")
          .isEqualTo(images.appConfig().digest());
      List<String> zstdLayers = m.path("layers").findValuesAsText("digest");
      assertThat(zstdLayers).doesNotContainAnyElementsOf(gzipLayers());

      // the manifest podman stored is the converted one, byte for byte
      byte[] stored = skopeo.cmd("inspect", "--raw", podman.storageRef(ref)).ok().stdoutBytes();
      assertThat(sha256(stored))
          .as("sha256 of the manifest in podman's store vs the one the proxy serves")
          .isEqualTo(sha256(served));
      assertImage(podman, ref, sha256(served), zstdLayers, Podman.COMPRESSION_ZSTD);
      assertProxyServedTheBlobs(proxy, proxyMark, zstdLayers);
    }
    assertThat(
            registry.accessesSince(regMark).stream()
                .filter(a -> a.path().contains("/blobs/"))
                .map(DockerRegistry.Access::userAgent)
                .distinct()
                .toList())
        .as("User-Agents of blob requests the upstream saw")
        .containsOnly(PROXY_UA);
    proxy.stop();
  }

  // ------------------------------------------------------------------ checks

  /**
   * The image {@code ref} in {@code podman}'s store: its manifest digest, its RootFS.Layers (the
   * config's diff_ids), the blobs containers/storage applied ({@code compressed-diff-digest}), the
   * sha256 of the tars it applied (must be the diff_ids), and the mounted file tree.
   */
  private static void assertImage(
      Podman podman, String ref, String manifestDigest, List<String> blobs, int compression) {
    JsonNode img = podman.inspect(ref);
    assertThat(img.path("Digest").asText())
        .as("podman image inspect %s: Digest", ref)
        .isEqualTo(manifestDigest);
    List<String> rootFs = new ArrayList<>();
    img.path("RootFS").path("Layers").forEach(n -> rootFs.add(n.asText()));
    assertThat(rootFs).as("podman image inspect %s: RootFS.Layers", ref).isEqualTo(upstreamDiffIds);

    List<Podman.StoredLayer> layers = podman.layersOf(img.path("Id").asText());
    assertThat(layers.stream().map(Podman.StoredLayer::compressedDigest).toList())
        .as("compressed-diff-digest of the layers podman stored for %s", ref)
        .isEqualTo(blobs);
    assertThat(layers.stream().map(Podman.StoredLayer::uncompressedDigest).toList())
        .as("diff-digest (sha256 of the applied tar) of the layers podman stored for %s", ref)
        .isEqualTo(upstreamDiffIds);
    assertThat(layers.stream().map(Podman.StoredLayer::compression).toList())
        .as("compression of the layers podman stored for %s (%s)", ref, layers)
        .containsOnly(compression);

    Path root = podman.mountImage(ref);
    try {
      SortedMap<String, FileTree.Node> actual = FileTree.scan(root);
      List<String> diff = FileTree.diff(images.expectedAppTree(), actual);
      assertThat(diff)
          .as(
              "file tree of %s in podman's %s store (%s) vs the expected tree",
              ref, podman.driver(), root)
          .isEmpty();
      for (List<String> group : images.appHardlinks()) {
        long ino = FileTree.inode(root.resolve(group.getFirst()));
        for (String other : group) {
          assertThat(FileTree.inode(root.resolve(other))).as("hardlink %s", group).isEqualTo(ino);
        }
      }
      System.out.printf("[e2e] podman %s: %d paths as expected%n", ref, actual.size());
    } finally {
      podman.unmountImage(ref);
    }
  }

  /**
   * The proxy's access log since {@code mark} shows podman GETting every blob in {@code layers}
   * (and the config) with 200, with a User-Agent other than the proxy's own.
   */
  private static void assertProxyServedTheBlobs(Transship proxy, long mark, List<String> layers) {
    List<String> log = proxy.daemon().logSince(mark).lines().toList();
    List<String> wanted = new ArrayList<>(layers);
    wanted.add(images.appConfig().digest());
    for (String digest : wanted) {
      assertThat(log)
          .as("proxy access log lines for GET blob %s (200)", digest)
          .anyMatch(l ->
              l.contains("GET \"/v2/lab/" + TestImages.APP_REPO + "/blobs/" + digest + "\" 200")
                  && !l.contains("ua=\"" + PROXY_UA));
    }
  }

  /**
   * Since {@code regMark} the upstream saw the proxy (User-Agent {@value #PROXY_UA}) fetch every
   * app layer, and no request from anyone else (podman going to the upstream itself).
   */
  private static void assertUpstreamSawOnlyTheProxy(long regMark, Transship proxy, long proxyMark) {
    List<DockerRegistry.Access> seen = registry.accessesSince(regMark);
    assertThat(seen.stream().filter(a -> !a.userAgent().startsWith(PROXY_UA)).toList())
        .as(
            "requests the upstream got from others than the proxy (podman not using the proxy);"
                + " proxy log since the pull:\n%s",
            proxy.daemon().logSince(proxyMark))
        .isEmpty();
    for (String layer : gzipLayers()) {
      assertThat(seen)
          .as("the (cold) proxy fetched layer %s from the upstream", layer)
          .anyMatch(a ->
              a.method().equals("GET")
                  && a.path().contains("/blobs/" + layer)
                  && a.status() == 200
                  && a.userAgent().equals(PROXY_UA));
    }
  }

  private static List<String> gzipLayers() {
    return images.appLayers().stream().map(TestImages.Blob::digest).toList();
  }

  private static String sha256(byte[] data) {
    return "sha256:" + FileTree.sha256Hex(data);
  }

  private static JsonNode json(byte[] bytes) {
    try {
      return JSON.readTree(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
