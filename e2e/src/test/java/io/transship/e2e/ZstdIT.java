package io.transship.e2e;

import static io.transship.e2e.FileChecks.head;
import static io.transship.e2e.FileChecks.mismatch;
import static io.transship.e2e.FileChecks.size;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.zip.GZIPInputStream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * gzip to zstd conversion on first pull, with real clients. A proxy whose upstream defaults to
 * {@code format: zstd} serves skopeo an OCI manifest (also for the Docker schema2 image) and an OCI
 * index whose layers are {@code tar+zstd} blobs that decompress to exactly the original tars (their
 * sha256 is the config's diff_id, the config blob is untouched), annotated with the upstream
 * digest; every Accept header line a client sends counts; containerd pulls the image and the index
 * as a mirror and unpacks them (verifying the diff_ids itself) to the expected file tree; a second
 * proxy with an empty cache and other zstd threading converts to the same digests; {@code transship
 * warm} and {@code transship resolve} agree with a later pull; Docker Engine before 23 and {@code
 * /v2/none/...} get the original.
 */
@Tag("e2e")
@ExtendWith(DumpLogsOnFailure.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ZstdIT {
  static final String OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
  static final String SOURCE_DIGEST = "io.transship.source.digest";
  private static final String PLATFORM = "linux/amd64";
  private static final String APP = "lab/" + TestImages.APP_REPO;
  private static final String MULTI = "lab/" + TestImages.MULTI_REPO;

  /** The test layers convert in well under a second; 60 s only leaves room for a slow CI host. */
  private static final String CONVERSION = "conversion: { deadline: 60s }";

  private static final byte[] ZSTD_MAGIC = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd};

  /**
   * A manifest request's client headers: {@code accept} as one comma-separated header ({@code
   * lines} false, what containerd sends) or as one header line per type ({@code lines} true, what
   * skopeo, podman and Docker Engine's distribution client send).
   */
  record Client(String userAgent, List<String> accept, boolean lines) {}

  private static final List<String> DOCKER_TYPES =
      List.of(
          TestImages.DOCKER_MANIFEST,
          "application/vnd.docker.distribution.manifest.list.v2+json",
          TestImages.OCI_MANIFEST,
          TestImages.OCI_INDEX,
          "application/vnd.docker.distribution.manifest.v1+prettyjws",
          "application/json");

  private static final Client DOCKER_20 =
      new Client(
          "docker/20.10.24 go/go1.19.7 git-commit/5d6db84 kernel/6.1.0-18-amd64 os/linux"
              + " arch/amd64 UpstreamClient(Docker-Client/20.10.24 \\(linux\\))",
          DOCKER_TYPES,
          false);
  private static final Client DOCKER_24 =
      new Client(
          "docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/6.1.0-18-amd64 os/linux"
              + " arch/amd64 UpstreamClient(Docker-Client/24.0.7 \\(linux\\))",
          DOCKER_TYPES,
          false);

  /** containerd 1.6's resolver: one Accept header. */
  private static final Client CONTAINERD =
      new Client(
          "containerd/1.6.20~ds1",
          List.of(
              TestImages.DOCKER_MANIFEST,
              "application/vnd.docker.distribution.manifest.list.v2+json",
              TestImages.OCI_MANIFEST,
              TestImages.OCI_INDEX,
              "*/*"),
          false);

  /** skopeo 1.9.3 exactly as it asks for a manifest (captured): six Accept lines. */
  private static final Client SKOPEO =
      new Client(
          "skopeo/1.9.3",
          List.of(
              TestImages.OCI_MANIFEST,
              TestImages.DOCKER_MANIFEST,
              "application/vnd.docker.distribution.manifest.v1+prettyjws",
              "application/vnd.docker.distribution.manifest.v1+json",
              "application/vnd.docker.distribution.manifest.list.v2+json",
              TestImages.OCI_INDEX),
          true);

  private static final ObjectMapper JSON = new ObjectMapper();

  private static E2eEnv env;
  private static TestImages images;
  private static Skopeo skopeo;
  private static DockerRegistry registry;
  private static Transship proxy;

  /** Gunzipped original layers by their gzip digest (decompressed once per class). */
  private static final Map<String, Path> originalTars = new HashMap<>();

  @BeforeAll
  static void setUp() {
    Tools.require("skopeo", "docker-registry", "tar", "zstd");
    env = E2eEnv.create("zstd");
    images = TestImages.build(env);
    skopeo = new Skopeo(env);
    registry = DockerRegistry.plain(env, "lab");
    images.pushAll(skopeo, registry);
    proxy = Transship.with("lab", registry).format("zstd").yaml(CONVERSION).start(env, "zstd");
  }

  @AfterAll
  static void tearDown() {
    if (env != null) {
      env.close();
    }
  }

  // ------------------------------------------------------------------ 1. skopeo

  @Test
  @Order(1)
  void skopeoGetsTheOciImageWithZstdLayers() {
    PulledImage p = pullOci(docker(proxy, APP + ":v1"), "app");
    String converted = single(p);
    assertThat(converted)
        .as(
            "manifest digest via the zstd proxy (the original is %s)",
            images.appManifest().digest())
        .isNotEqualTo(images.appManifest().digest());
    assertConvertedImage(p, converted, images.blobBytes(images.appManifest().digest()));
    assertServedAsIs(proxy, APP + ":v1", converted);
  }

  @Test
  @Order(2)
  void skopeoGetsTheDockerSchema2ImageAsOciWithZstdLayers() {
    byte[] upstream =
        skopeo.inspectRaw(registry.hostPort() + "/" + TestImages.APP_REPO + ":v1-docker");
    assertThat(json(upstream).path("mediaType").asText())
        .as("the upstream's v1-docker manifest")
        .isEqualTo(TestImages.DOCKER_MANIFEST);
    PulledImage p = pullOci(docker(proxy, APP + ":v1-docker"), "app-docker");
    String converted = single(p);
    assertThat(converted).isNotEqualTo(sha256(upstream));
    assertConvertedImage(p, converted, upstream);
    // skopeo would turn a schema2 manifest into OCI itself when writing oci:; the proxy's bytes
    // must already be the converted OCI manifest
    assertServedAsIs(proxy, APP + ":v1-docker", converted);
  }

  @Test
  @Order(3)
  void skopeoGetsTheMultiArchIndexConvertedWithAll() {
    PulledImage p = pullOci(docker(proxy, MULTI + ":v1"), "multi", "--all");
    String converted = single(p);
    JsonNode source = json(images.blobBytes(images.multiIndex().digest()));
    JsonNode index = p.json(converted);
    assertThat(index.path("mediaType").asText())
        .as("media type of the index served for %s:v1", MULTI)
        .isEqualTo(TestImages.OCI_INDEX);
    assertThat(index.path("annotations").path(SOURCE_DIGEST).asText())
        .as(
            "%s annotation of the index skopeo got for %s:v1 (%s; the original is %s; skopeo"
                + " sends one Accept line per type, see everyAcceptHeaderLineCounts)",
            SOURCE_DIGEST, MULTI, converted, images.multiIndex().digest())
        .isEqualTo(images.multiIndex().digest());
    assertThat(converted).isNotEqualTo(images.multiIndex().digest());
    JsonNode children = index.path("manifests");
    assertThat(children.size()).as("children of the converted index").isEqualTo(2);
    for (int i = 0; i < children.size(); i++) {
      JsonNode child = children.get(i);
      JsonNode was = source.path("manifests").get(i);
      String platform = was.path("platform").toString();
      assertThat(child.path("platform"))
          .as("platform of child %d (%s)", i, platform)
          .isEqualTo(was.path("platform"));
      assertThat(child.path("mediaType").asText())
          .as("media type of child %s", platform)
          .isEqualTo(TestImages.OCI_MANIFEST);
      String digest = child.path("digest").asText();
      assertThat(digest)
          .as("child %s points at a converted manifest", platform)
          .isNotEqualTo(was.path("digest").asText());
      assertThat(p.blobs()).as("pulled blobs").contains(digest);
      assertThat(child.path("size").asLong()).isEqualTo(size(blob(p, digest)));
      assertConvertedImage(p, digest, images.blobBytes(was.path("digest").asText()));
    }
    // the amd64 child is e2e/app:v1: one conversion, one digest, however it is reached
    assertThat(children.get(0).path("digest").asText())
        .as("converted amd64 child vs the converted e2e/app:v1")
        .isEqualTo(sha256(skopeo.inspectRaw(proxy.hostPort() + "/" + APP + ":v1")));
    assertServedAsIs(proxy, MULTI + ":v1", converted);
  }

  /**
   * Clients that list the OCI types get the conversion however they spell Accept: one header with a
   * comma-separated list (containerd) or one header line per type (skopeo, podman, Docker Engine).
   * Same user agent, same types, only the header layout differs.
   */
  @Test
  @Order(4)
  void everyAcceptHeaderLineCounts() {
    String index = served(proxy, MULTI, "v1", CONTAINERD);
    String app = served(proxy, APP, "v1", CONTAINERD);
    assertThat(index).as("index for containerd").isNotEqualTo(images.multiIndex().digest());
    assertThat(app).as("image for containerd").isNotEqualTo(images.appManifest().digest());
    Client skopeoOneLine = new Client(SKOPEO.userAgent(), SKOPEO.accept(), false);
    Client docker24Lines = new Client(DOCKER_24.userAgent(), DOCKER_24.accept(), true);
    Map<String, Double> before = proxy.metricSamples();
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(served(proxy, MULTI, "v1", skopeoOneLine))
        .as("%s:v1 for skopeo's Accept list as one header", MULTI)
        .isEqualTo(index);
    soft.assertThat(served(proxy, MULTI, "v1", SKOPEO))
        .as("%s:v1 for skopeo's Accept list as six header lines (what skopeo sends)", MULTI)
        .isEqualTo(index);
    soft.assertThat(served(proxy, APP, "v1", DOCKER_24))
        .as("%s:v1 for Docker 24 with one Accept header", APP)
        .isEqualTo(app);
    soft.assertThat(served(proxy, APP, "v1", docker24Lines))
        .as("%s:v1 for Docker 24 with one Accept line per type, Docker v2 first", APP)
        .isEqualTo(app);
    Map<String, String> outcomes = Transship.grownCounters(before, proxy.metricSamples());
    outcomes.keySet().removeIf(k -> !k.startsWith("transship_conversion_manifests"));
    System.out.println("[e2e] manifest outcomes of the four requests: " + outcomes);
    soft.assertAll();
  }

  // ------------------------------------------------------------------ 2. containerd

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {TestImages.APP_REPO + ":v1", TestImages.MULTI_REPO + ":v1"})
  @Order(5)
  void containerdPullsAndUnpacksTheZstdImageThroughTheMirror(String repoTag) {
    String name = repoTag.replaceAll("[^a-z0-9]+", "-");
    Path hosts = Containerd.writeMirrorHosts(env.dir("hosts"), registry.hostPort(), proxy.url());
    long regMark = registry.daemon().logMark();
    long proxyMark = proxy.daemon().logMark();
    try (Containerd c = Containerd.start(env, "zstd-" + name)) {
      String ref = registry.hostPort() + "/" + repoTag;
      // unpacking checks every layer's uncompressed sha256 against the config's diff_ids
      String snapshotter = pull(c, ref, "--hosts-dir", hosts.toString());
      assertThat(
              registry.accessesSince(regMark).stream()
                  .filter(a -> a.userAgent().contains("containerd"))
                  .toList())
          .as(
              "requests containerd sent straight to the upstream (a fallback from the mirror);"
                  + " proxy log since the pull:\n%s",
              proxy.daemon().logSince(proxyMark))
          .isEmpty();

      JsonNode resolved = resolve(proxy, "lab/" + repoTag, "zstd");
      assertThat(resolved.path("state").asText())
          .as("/resolve %s", resolved)
          .isEqualTo("converted");
      String converted = resolved.path("converted").asText();
      String listed = listedDigest(c, ref);
      assertThat(listed)
          .as("digest of %s in ctr images ls vs the proxy's converted digest", ref)
          .isEqualTo(converted);

      byte[] top = c.ctr("content", "get", listed).ok().stdoutBytes();
      assertThat(sha256(top)).isEqualTo(listed);
      assertThat(json(top).path("annotations").path(SOURCE_DIGEST).asText())
          .as("%s annotation of what containerd pulled", SOURCE_DIGEST)
          .isEqualTo(resolved.path("source").asText());
      byte[] manifest = top;
      if (TestImages.OCI_INDEX.equals(json(top).path("mediaType").asText())) {
        String amd64 = null;
        for (JsonNode child : json(top).path("manifests")) {
          if ("amd64".equals(child.path("platform").path("architecture").asText())) {
            amd64 = child.path("digest").asText();
          }
        }
        assertThat(amd64).as("linux/amd64 child of %s", listed).isNotNull();
        manifest = c.ctr("content", "get", amd64).ok().stdoutBytes();
      }
      JsonNode m = json(manifest);
      assertThat(m.path("annotations").path(SOURCE_DIGEST).asText())
          .isEqualTo(images.appManifest().digest());
      assertThat(m.path("layers").findValuesAsText("mediaType"))
          .as("layer media types of the manifest containerd pulled")
          .hasSize(images.appLayers().size())
          .containsOnly(OCI_LAYER_ZSTD);
      String content = c.ctr("content", "ls", "-q").ok().stdout();
      for (String layer : m.path("layers").findValuesAsText("digest")) {
        assertThat(content).as("containerd's content store").contains(layer);
      }
      for (TestImages.Blob gz : images.appLayers()) {
        assertThat(content)
            .as("gzip layer in containerd's content store")
            .doesNotContain(gz.digest());
      }
      assertTree(c, ref, snapshotter, name);
    }
  }

  // ------------------------------------------------------------------ 3. determinism

  @Test
  @Order(6)
  void aSecondFreshProxyConvertsToTheSameDigests() {
    // another process, another (empty) data directory, one zstd thread instead of min(4, cores),
    // pass-through by default and zstd only through the path selector
    Transship second =
        Transship.with("lab", registry)
            .format("none")
            .yaml("conversion: { deadline: 60s, zstd-threads: 1, workers: 1 }")
            .start(env, "zstd-second");
    try {
      for (String image : List.of(APP + ":v1", APP + ":v1-docker")) {
        String name = image.replaceAll("[^a-z0-9]+", "-");
        PulledImage a = pullOci(docker(proxy, image), "first-" + name);
        PulledImage b = pullOci(docker(second, "zstd/" + image), "second-" + name);
        assertThat(json(manifestBytes(a)).path("layers").findValuesAsText("mediaType"))
            .as("%s via the first proxy", image)
            .containsOnly(OCI_LAYER_ZSTD);
        assertThat(b.topDigests())
            .as("converted manifest digest of %s from a second, fresh proxy", image)
            .isEqualTo(a.topDigests());
        assertThat(b.blobs()).as("manifest, config and zstd layer digests").isEqualTo(a.blobs());
      }
      // the index as containerd asks for it (one Accept header; see everyAcceptHeaderLineCounts)
      String index = served(proxy, MULTI, "v1", CONTAINERD);
      assertThat(index).isNotEqualTo(images.multiIndex().digest());
      assertThat(served(second, "zstd/" + MULTI, "v1", CONTAINERD))
          .as("converted index digest from the second proxy")
          .isEqualTo(index);
      // and the pass-through default of the second proxy still serves the original
      assertThat(sha256(skopeo.inspectRaw(second.hostPort() + "/" + APP + ":v1")))
          .isEqualTo(images.appManifest().digest());
    } finally {
      second.stop();
    }
  }

  // ------------------------------------------------------------------ 4. CLI warm + resolve

  @Test
  @Order(7)
  void warmThenResolveWithTheCliGiveTheDigestALaterPullGets() {
    Transship fresh =
        Transship.with("lab", registry).format("zstd").yaml(CONVERSION).start(env, "zstd-cli");
    try {
      Cmd.Result before = fresh.cli("resolve", APP + ":v1", "--format", "zstd").run();
      assertThat(before.exitCode())
          .as("resolve before warm must say 'not converted yet' (3):\n%s", before.describe())
          .isEqualTo(3);

      Cmd.Result warm = fresh.cli("warm", APP + ":v1", "--format", "zstd").run();
      assertThat(warm.exitCode()).as("warm exit code:\n%s", warm.describe()).isZero();
      // output contract: stdout is the result alone (one digest), progress goes to stderr
      List<String> lines = warm.stdout().strip().lines().toList();
      String warmed = lines.getLast().strip();
      assertThat(lines).as("stdout of warm:\n%s", warm.describe()).hasSize(1);
      assertThat(warmed)
          .as("last line of warm:\n%s", warm.describe())
          .matches("sha256:[0-9a-f]{64}");
      assertThat(
              warm.stderr()
                  .lines()
                  .filter(l -> l.strip().startsWith("layer") && l.endsWith("done")))
          .as("converted-layer lines of warm:\n%s", warm.stderr())
          .hasSize(images.appLayers().size());

      Cmd.Result resolve = fresh.cli("resolve", APP + ":v1", "--format", "zstd").run();
      assertThat(resolve.exitCode()).as("resolve exit code:\n%s", resolve.describe()).isZero();
      assertThat(resolve.stdout().strip()).as("resolve after warm").isEqualTo(warmed);

      long mark = fresh.daemon().logMark();
      PulledImage p = pullOci(docker(fresh, APP + ":v1"), "after-warm");
      assertThat(p.topDigests()).as("digest a pull by tag gets after warm").containsExactly(warmed);
      assertThat(json(manifestBytes(p)).path("layers").findValuesAsText("mediaType"))
          .containsOnly(OCI_LAYER_ZSTD);
      assertThat(fresh.daemon().logSince(mark).lines().filter(l -> l.contains("converted layer")))
          .as("layers converted again by the pull after warm")
          .isEmpty();
      assertThat(warmed)
          .as("warm on a fresh proxy vs the class proxy's conversion")
          .isEqualTo(sha256(skopeo.inspectRaw(proxy.hostPort() + "/" + APP + ":v1")));

      Cmd.Result warmIndex = fresh.cli("warm", MULTI + ":v1", "--format", "zstd").run();
      assertThat(warmIndex.exitCode()).as("warm index:\n%s", warmIndex.describe()).isZero();
      String index = warmIndex.stdout().strip().lines().toList().getLast().strip();
      Cmd.Result resolveIndex = fresh.cli("resolve", MULTI + ":v1", "--format", "zstd").run();
      assertThat(resolveIndex.exitCode()).as(resolveIndex.describe()).isZero();
      assertThat(resolveIndex.stdout().strip())
          .isEqualTo(index)
          .isNotEqualTo(images.multiIndex().digest());
      // as containerd asks (skopeo's Accept lines: see everyAcceptHeaderLineCounts)
      assertThat(served(fresh, MULTI, "v1", CONTAINERD))
          .as("index digest a pull by tag gets after warm")
          .isEqualTo(index);
    } finally {
      fresh.stop();
    }
  }

  // ------------------------------------------------------------------ 5. originals

  @Test
  @Order(8)
  void oldDockerAndTheNoneSelectorGetTheOriginal() {
    String converted = sha256(skopeo.inspectRaw(proxy.hostPort() + "/" + APP + ":v1"));
    assertThat(converted).isNotEqualTo(images.appManifest().digest());

    HttpResponse<byte[]> old = manifest(proxy, APP, "v1", DOCKER_20, "GET");
    assertServed(old, "Docker 20.10 GET " + APP + ":v1", images.appManifest().digest());
    HttpResponse<byte[]> oldHead = manifest(proxy, APP, "v1", DOCKER_20, "HEAD");
    assertThat(oldHead.statusCode()).isEqualTo(200);
    assertThat(oldHead.headers().firstValue("Docker-Content-Digest"))
        .as("Docker 20.10 HEAD %s:v1", APP)
        .hasValue(images.appManifest().digest());

    byte[] upstreamDocker =
        skopeo.inspectRaw(registry.hostPort() + "/" + TestImages.APP_REPO + ":v1-docker");
    HttpResponse<byte[]> oldDocker = manifest(proxy, APP, "v1-docker", DOCKER_20, "GET");
    assertServed(oldDocker, "Docker 20.10 GET " + APP + ":v1-docker", sha256(upstreamDocker));
    assertThat(oldDocker.headers().firstValue("Content-Type")).hasValue(TestImages.DOCKER_MANIFEST);

    HttpResponse<byte[]> oldIndex = manifest(proxy, MULTI, "v1", DOCKER_20, "GET");
    assertServed(oldIndex, "Docker 20.10 GET " + MULTI + ":v1", images.multiIndex().digest());

    // the same request from Docker 24 gets the conversion: the version is what decides
    HttpResponse<byte[]> modern = manifest(proxy, APP, "v1", DOCKER_24, "GET");
    assertServed(modern, "Docker 24 GET " + APP + ":v1", converted);

    HttpResponse<byte[]> none = manifest(proxy, "none/" + APP, "v1", DOCKER_24, "GET");
    assertServed(none, "Docker 24 GET /v2/none/" + APP + ":v1", images.appManifest().digest());
    assertThat(sha256(skopeo.inspectRaw(proxy.hostPort() + "/none/" + APP + ":v1")))
        .as("skopeo inspect --raw /none/%s:v1", APP)
        .isEqualTo(images.appManifest().digest());
    HttpResponse<byte[]> noneIndex = manifest(proxy, "none/" + MULTI, "v1", CONTAINERD, "GET");
    assertServed(
        noneIndex, "containerd GET /v2/none/" + MULTI + ":v1", images.multiIndex().digest());
  }

  // ------------------------------------------------------------------ checks

  /**
   * {@code digest} in {@code p} is the conversion of the manifest {@code sourceBytes}: OCI, same
   * config blob (OCI config media type), annotated with the source digest, every layer a zstd blob
   * whose decompressed bytes are the original layer's tar byte for byte.
   */
  private static void assertConvertedImage(PulledImage p, String digest, byte[] sourceBytes) {
    JsonNode source = json(sourceBytes);
    JsonNode m = p.json(digest);
    String what = "converted manifest " + digest;
    assertThat(m.path("mediaType").asText())
        .as("%s: mediaType", what)
        .isEqualTo(TestImages.OCI_MANIFEST);
    assertThat(m.path("annotations").path(SOURCE_DIGEST).asText())
        .as("%s: annotation %s", what, SOURCE_DIGEST)
        .isEqualTo(sha256(sourceBytes));
    String config = m.path("config").path("digest").asText();
    assertThat(config)
        .as("%s: config blob digest (unchanged)", what)
        .isEqualTo(source.path("config").path("digest").asText());
    assertThat(m.path("config").path("mediaType").asText())
        .as("%s: config media type", what)
        .isEqualTo(TestImages.OCI_CONFIG);
    assertThat(p.blobs()).as("pulled blobs").contains(config);
    List<String> ids = new ArrayList<>();
    p.json(config).path("rootfs").path("diff_ids").forEach(d -> ids.add(d.asText()));
    JsonNode layers = m.path("layers");
    JsonNode sourceLayers = source.path("layers");
    assertThat(layers.size()).as("%s: layer count", what).isEqualTo(sourceLayers.size());
    assertThat(ids).as("diff_ids of config %s", config).hasSize(layers.size());
    for (int i = 0; i < layers.size(); i++) {
      JsonNode layer = layers.get(i);
      String original = sourceLayers.get(i).path("digest").asText();
      String zstd = layer.path("digest").asText();
      String where = what + " layer " + i + " (was " + original + ")";
      assertThat(layer.path("mediaType").asText())
          .as("%s: mediaType", where)
          .isEqualTo(OCI_LAYER_ZSTD);
      assertThat(zstd).as("%s: digest", where).isNotEqualTo(original);
      assertThat(p.blobs()).as("pulled blobs").contains(zstd).doesNotContain(original);
      Path blob = blob(p, zstd);
      assertThat(size(blob)).as("%s: size", where).isEqualTo(layer.path("size").asLong());
      assertThat(head(blob, 4)).as("%s: zstd frame magic", where).isEqualTo(ZSTD_MAGIC);
      Path tar = unzstd(blob);
      assertThat("sha256:" + FileTree.sha256Hex(tar))
          .as("%s: sha256 of zstd -d output vs config diff_id", where)
          .isEqualTo(ids.get(i));
      assertThat(mismatch(tar, originalTar(original)))
          .as("%s: first byte where zstd -d output and the gunzipped original differ", where)
          .isEqualTo(-1L);
    }
  }

  /** skopeo inspect --raw of the tag through the proxy gives exactly the manifest pulled. */
  private static void assertServedAsIs(Transship p, String image, String digest) {
    assertThat(sha256(skopeo.inspectRaw(p.hostPort() + "/" + image)))
        .as("sha256 of skopeo inspect --raw %s via the proxy", image)
        .isEqualTo(digest);
  }

  private static void assertServed(HttpResponse<byte[]> r, String what, String digest) {
    assertThat(r.statusCode()).as("%s: status", what).isEqualTo(200);
    assertThat(r.headers().firstValue("Docker-Content-Digest"))
        .as("%s: Docker-Content-Digest", what)
        .hasValue(digest);
    assertThat(sha256(r.body())).as("%s: sha256 of the body", what).isEqualTo(digest);
  }

  // ------------------------------------------------------------------ clients

  private static String docker(Transship p, String image) {
    return "docker://" + p.hostPort() + "/" + image;
  }

  private static PulledImage pullOci(String src, String name, String... extra) {
    Path out = env.dir("pulls", name);
    List<String> args = new ArrayList<>(List.of(extra));
    args.add(src);
    args.add("oci:" + out + ":v1");
    skopeo.copy(args.toArray(String[]::new));
    return PulledImage.readOci(out);
  }

  private static String single(PulledImage p) {
    assertThat(p.topDigests()).as("top-level manifests in %s", p.dir()).hasSize(1);
    return p.topDigests().getFirst();
  }

  private static byte[] manifestBytes(PulledImage p) {
    try {
      return Files.readAllBytes(blob(p, single(p)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A manifest request by tag with {@code client}'s headers (java.net.http). */
  private static HttpResponse<byte[]> manifest(
      Transship p, String repo, String tag, Client client, String method) {
    HttpRequest.Builder b =
        Http.request(p.url() + "/v2/" + repo + "/manifests/" + tag)
            .header("User-Agent", client.userAgent())
            .method(method, HttpRequest.BodyPublishers.noBody());
    if (client.lines()) {
      client.accept().forEach(t -> b.header("Accept", t));
    } else {
      b.header("Accept", String.join(", ", client.accept()));
    }
    return Http.send(b.build());
  }

  /** The digest {@code client} gets for a tag (GET; status 200 and body digest checked). */
  private static String served(Transship p, String repo, String tag, Client client) {
    HttpResponse<byte[]> r = manifest(p, repo, tag, client, "GET");
    String what = "GET " + repo + ":" + tag + " as " + client.userAgent();
    assertThat(r.statusCode()).as("%s: status", what).isEqualTo(200);
    String digest = r.headers().firstValue("Docker-Content-Digest").orElse("(none)");
    assertThat(sha256(r.body()))
        .as("%s: sha256 of the body vs Docker-Content-Digest", what)
        .isEqualTo(digest);
    return digest;
  }

  /** {@code GET /resolve?image=&format=} on the admin port. */
  private static JsonNode resolve(Transship p, String image, String format) {
    HttpResponse<byte[]> r =
        Http.get(p.adminUrl() + "/resolve?image=" + image + "&format=" + format);
    String body = new String(r.body(), StandardCharsets.UTF_8);
    assertThat(r.statusCode()).as("GET /resolve?image=%s: %s", image, body).isEqualTo(200);
    return json(r.body());
  }

  // ------------------------------------------------------------------ containerd

  /** The target digest {@code ctr images ls} lists for {@code ref}. */
  private static String listedDigest(Containerd c, String ref) {
    String out = c.ctr("images", "ls").ok().stdout();
    return out.lines()
        .map(l -> l.trim().split("\\s+"))
        .filter(f -> f.length >= 3 && f[0].equals(ref))
        .map(f -> f[2])
        .findFirst()
        .orElseThrow(() -> new AssertionError(ref + " not in ctr images ls:\n" + out));
  }

  /** Pulls and unpacks with overlayfs, or native where overlayfs is missing or cannot mount. */
  private static String pull(Containerd c, String ref, String... how) {
    String snapshotter = c.snapshotterLoaded("overlayfs") ? "overlayfs" : "native";
    Cmd.Result r = pullWith(c, ref, snapshotter, how);
    if (!r.ok() && snapshotter.equals("overlayfs") && r.stderr().contains("mount")) {
      System.out.println("[e2e] overlayfs unpack failed, retrying with native:\n" + r.describe());
      snapshotter = "native";
      r = pullWith(c, ref, snapshotter, how);
    }
    r.assertOk();
    return snapshotter;
  }

  private static Cmd.Result pullWith(Containerd c, String ref, String snapshotter, String... how) {
    List<String> args =
        new ArrayList<>(
            List.of("images", "pull", "--platform", PLATFORM, "--snapshotter", snapshotter));
    args.addAll(List.of(how));
    args.add(ref);
    return c.ctr(args.toArray(String[]::new)).run();
  }

  private static void assertTree(Containerd c, String ref, String snapshotter, String name) {
    Path mnt = env.dir("mnt-" + name);
    c.mountImage(ref, PLATFORM, snapshotter, mnt);
    try {
      SortedMap<String, FileTree.Node> actual = FileTree.scan(mnt);
      List<String> diff = FileTree.diff(images.expectedAppTree(), actual);
      assertThat(diff)
          .as(
              "unpacked tree of the zstd image %s (%s) vs the layers' expected tree",
              ref, snapshotter)
          .isEmpty();
      for (List<String> group : images.appHardlinks()) {
        long ino = FileTree.inode(mnt.resolve(group.getFirst()));
        for (String other : group) {
          assertThat(FileTree.inode(mnt.resolve(other))).as("hardlink %s", group).isEqualTo(ino);
        }
      }
      System.out.printf(
          "[e2e] zstd %s unpacked with %s: %d paths as expected%n",
          ref, snapshotter, actual.size());
    } finally {
      c.unmountImage(mnt);
    }
  }

  // ------------------------------------------------------------------ bytes

  private static Path blob(PulledImage p, String digest) {
    return p.dir().resolve("blobs/sha256").resolve(digest.substring("sha256:".length()));
  }

  /** {@code zstd -d} of a blob into a file next to the other decompressed layers. */
  private static Path unzstd(Path blob) {
    Path out = env.dir("tars").resolve("zstd-" + blob.getFileName() + ".tar");
    Cmd.of("zstd", "-d", "-q", "-f", blob.toString(), "-o", out.toString()).ok();
    return out;
  }

  /** The original gzip layer of the built layout, gunzipped (java.util.zip). */
  private static synchronized Path originalTar(String gzipDigest) {
    return originalTars.computeIfAbsent(
        gzipDigest,
        d -> {
          Path out = env.dir("tars").resolve("gzip-" + d.substring("sha256:".length()) + ".tar");
          try (InputStream in = new GZIPInputStream(Files.newInputStream(images.blobPath(d)));
              OutputStream o = Files.newOutputStream(out)) {
            in.transferTo(o);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
          return out;
        });
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
