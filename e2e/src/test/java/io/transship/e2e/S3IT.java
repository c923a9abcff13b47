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
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * transship on S3 storage with real clients and a real S3 server (S3Proxy, out of process, one for
 * the class). Replica A ({@code format: zstd}, S3 bucket and prefix, its own local disk cache)
 * converts {@code e2e/app:v1} for skopeo, whose zstd layers decompress to exactly the original
 * tars, and for containerd pulling through it as a hosts.toml mirror, which unpacks it (checking
 * the diff_ids) to the expected tree. The converted blobs, the manifest and the conversion index
 * really are objects in the bucket under the prefix. Replica B, started on the same bucket and
 * prefix with an empty local cache while A is stopped, serves the same converted manifest and
 * layers from S3 without converting anything or fetching a layer from the upstream.
 */
@Tag("e2e")
@ExtendWith(DumpLogsOnFailure.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class S3IT {
  private static final String BUCKET = "transship-e2e";
  private static final String PREFIX = "run1/";
  private static final String PLATFORM = "linux/amd64";
  private static final String APP = "lab/" + TestImages.APP_REPO;
  private static final String OCI_LAYER_ZSTD = ZstdIT.OCI_LAYER_ZSTD;
  private static final String SOURCE_DIGEST = ZstdIT.SOURCE_DIGEST;
  private static final String STARTED = "transship_conversions_started_total";

  /** The test layers convert in well under a second; 60 s only leaves room for a slow CI host. */
  private static final String CONVERSION = "conversion: { deadline: 60s }";

  private static final byte[] ZSTD_MAGIC = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd};
  private static final ObjectMapper JSON = new ObjectMapper();

  private static E2eEnv env;
  private static TestImages images;
  private static Skopeo skopeo;
  private static DockerRegistry registry;
  private static S3Proxy s3;
  private static Transship replicaA;

  /** The converted manifest digest replica A served skopeo (test 1). */
  private static String converted;

  /** Gunzipped original layers by their gzip digest (decompressed once per class). */
  private static final Map<String, Path> originalTars = new HashMap<>();

  @BeforeAll
  static void setUp() {
    Tools.require("skopeo", "docker-registry", "tar", "zstd");
    env = E2eEnv.create("s3");
    images = TestImages.build(env);
    skopeo = new Skopeo(env);
    registry = DockerRegistry.plain(env, "lab");
    images.pushApp(skopeo, registry);
    s3 = S3Proxy.start(env, "shared", BUCKET);
    replicaA = replica().start(env, "a");
  }

  @AfterAll
  static void tearDown() {
    if (env != null) {
      env.close();
    }
  }

  /** A zstd proxy on the class's bucket and prefix; each start gets its own empty local cache. */
  private static Transship.Config replica() {
    return Transship.with("lab", registry)
        .format("zstd")
        .yaml(CONVERSION)
        .s3(s3.storageYaml(PREFIX));
  }

  // ------------------------------------------------------------------ 1. replica A converts

  @Test
  @Order(1)
  void skopeoGetsZstdLayersThroughReplicaA() {
    assertStorageUp(replicaA);
    PulledImage p = pullOci(replicaA, "a");
    converted = single(p);
    assertThat(converted)
        .as("manifest digest via replica A (the original is %s)", images.appManifest().digest())
        .isNotEqualTo(images.appManifest().digest());
    assertConvertedImage(p, converted);
    assertThat(conversionsStarted(replicaA))
        .as("%s{format=\"zstd\"} of replica A after the first pull", STARTED)
        .isEqualTo(images.appLayers().size());
  }

  @Test
  @Order(2)
  void containerdPullsAndUnpacksThroughReplicaAAsMirror() {
    Tools.requireRoot("containerd needs root");
    assertThat(converted).as("converted digest from the skopeo test").isNotNull();
    Path hosts = Containerd.writeMirrorHosts(env.dir("hosts"), registry.hostPort(), replicaA.url());
    long regMark = registry.daemon().logMark();
    long proxyMark = replicaA.daemon().logMark();
    try (Containerd c = Containerd.start(env, "s3-a")) {
      String ref = registry.hostPort() + "/" + TestImages.APP_REPO + ":v1";
      // unpacking checks every layer's uncompressed sha256 against the config's diff_ids
      String snapshotter = pull(c, ref, "--hosts-dir", hosts.toString());
      assertThat(
              registry.accessesSince(regMark).stream()
                  .filter(a -> a.userAgent().contains("containerd"))
                  .toList())
          .as(
              "requests containerd sent straight to the upstream (a fallback from the mirror);"
                  + " proxy log since the pull:\n%s",
              replicaA.daemon().logSince(proxyMark))
          .isEmpty();
      String listed = listedDigest(c, ref);
      assertThat(listed)
          .as("digest of %s in ctr images ls vs what skopeo got from replica A", ref)
          .isEqualTo(converted);
      JsonNode m = json(c.ctr("content", "get", listed).ok().stdoutBytes());
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
      assertTree(c, ref, snapshotter);
    }
    assertThat(conversionsStarted(replicaA))
        .as("%s of replica A after containerd's pull (converted once, by skopeo's)", STARTED)
        .isEqualTo(images.appLayers().size());
  }

  // ------------------------------------------------------------------ 2. the objects in S3

  @Test
  @Order(3)
  void theConversionIsStoredInTheBucketUnderThePrefix() {
    assertThat(converted).as("converted digest from the skopeo test").isNotNull();
    SortedSet<String> all = s3.keys("");
    System.out.println("[e2e] objects in s3://" + BUCKET + "/ (" + all.size() + "):");
    all.forEach(k -> System.out.println("[e2e]   " + k + " (" + size(s3.file(k)) + " bytes)"));
    assertThat(all)
        .as("keys in bucket %s outside the prefix %s", BUCKET, PREFIX)
        .allMatch(k -> k.startsWith(PREFIX));
    SortedSet<String> keys = s3.keys(PREFIX);

    String manifestKey = "manifests/sha256/" + hex(converted);
    assertThat(keys).as("objects under %s", PREFIX).contains(manifestKey, manifestKey + ".type");
    assertStoredBytes(manifestKey, converted);
    assertThat(read(s3.file(PREFIX + manifestKey + ".type")))
        .as("media type object of the converted manifest")
        .isEqualTo(TestImages.OCI_MANIFEST);

    JsonNode m = json(readBytes(s3.file(PREFIX + manifestKey)));
    List<String> blobs = new ArrayList<>(m.path("layers").findValuesAsText("digest"));
    blobs.add(m.path("config").path("digest").asText());
    for (String blob : blobs) {
      String key = "blobs/sha256/" + hex(blob).substring(0, 2) + "/" + hex(blob);
      assertThat(keys).as("objects under %s", PREFIX).contains(key);
      assertStoredBytes(key, blob);
    }

    // conversions/manifests/<conversion settings, e.g. zstd-l3>/sha256/<source manifest hex>
    String source = hex(images.appManifest().digest());
    List<String> index =
        keys.stream()
            .filter(k -> k.matches("conversions/manifests/[^/]+/sha256/" + source))
            .toList();
    assertThat(index)
        .as("conversion index of the manifest (source %s)", images.appManifest().digest())
        .hasSize(1);
    assertThat(read(s3.file(PREFIX + index.getFirst())))
        .as("the object %s", index.getFirst())
        .contains(hex(converted));
    for (TestImages.Blob gz : images.appLayers()) {
      assertThat(keys)
          .as("conversion index of gzip layer %s", gz.digest())
          .anyMatch(k -> k.matches("conversions/layers/[^/]+/sha256/" + hex(gz.digest())));
    }
    for (String layer : m.path("layers").findValuesAsText("digest")) {
      assertThat(keys)
          .as("origin record of converted layer %s", layer)
          .contains("conversions/origins/sha256/" + hex(layer));
    }
  }

  // ------------------------------------------------------------------ 3. replica B

  @Test
  @Order(4)
  void replicaBWithAnEmptyCacheServesTheConversionFromS3WhileAIsStopped() {
    assertThat(converted).as("converted digest from the skopeo test").isNotNull();
    replicaA.stop();
    Transship replicaB = replica().start(env, "b");
    try {
      assertStorageUp(replicaB);
      assertThat(cachedFiles(replicaB))
          .as("files in replica B's local cache before its first pull")
          .isEmpty();
      long regMark = registry.daemon().logMark();
      long mark = replicaB.daemon().logMark();

      PulledImage p = pullOci(replicaB, "b");
      assertThat(p.topDigests())
          .as("digest skopeo gets by tag from replica B (A converted it to %s)", converted)
          .containsExactly(converted);
      assertConvertedImage(p, converted);

      assertThat(conversionsStarted(replicaB))
          .as("%s{format=\"zstd\"} of replica B; its /metrics:\n%s", STARTED, replicaB.metrics())
          .isZero();
      assertThat(
              replicaB.daemon().logSince(mark).lines().filter(l -> l.contains("converted layer")))
          .as("layers replica B converted")
          .isEmpty();
      List<String> layerGets =
          registry.accessesSince(regMark).stream()
              .filter(a -> a.method().equals("GET") && a.path().contains("/blobs/"))
              .map(DockerRegistry.Access::path)
              .filter(path -> images.appLayers().stream().anyMatch(l -> path.contains(l.digest())))
              .toList();
      assertThat(layerGets).as("gzip layers replica B fetched from the upstream").isEmpty();
      assertThat(cachedFiles(replicaB))
          .as("replica B's local cache after the pull (filled from S3)")
          .isNotEmpty();
    } finally {
      replicaB.stop();
    }
  }

  // ------------------------------------------------------------------ checks

  private static void assertStorageUp(Transship p) {
    HttpResponse<byte[]> ready = Http.get(p.adminUrl() + "/readyz");
    assertThat(new String(ready.body(), StandardCharsets.UTF_8))
        .as("%s /readyz (S3 at %s)", p, s3.endpoint())
        .isEqualTo("ready\n");
    assertThat(p.metricSamples())
        .as("%s /metrics", p)
        .containsEntry("transship_storage_available", 1.0);
  }

  /** Sum of {@code transship_conversions_started_total{format="zstd"}} (0 when absent). */
  private static long conversionsStarted(Transship p) {
    return Math.round(
        p.metricSamples().entrySet().stream()
            .filter(e -> e.getKey().startsWith(STARTED + "{"))
            .filter(e -> e.getKey().contains("format=\"zstd\""))
            .mapToDouble(Map.Entry::getValue)
            .sum());
  }

  /** The object {@code key} (under the prefix) is on S3's disk and hashes to {@code digest}. */
  private static void assertStoredBytes(String key, String digest) {
    assertThat("sha256:" + FileTree.sha256Hex(s3.file(PREFIX + key)))
        .as("sha256 of the object %s%s in the bucket", PREFIX, key)
        .isEqualTo(digest);
  }

  /**
   * {@code digest} in {@code p} is the conversion of e2e/app:v1: OCI, same config blob, annotated
   * with the source digest, every layer a zstd blob whose decompressed bytes are the original
   * layer's tar byte for byte (and hash to the config's diff_id).
   */
  private static void assertConvertedImage(PulledImage p, String digest) {
    JsonNode source = json(images.blobBytes(images.appManifest().digest()));
    JsonNode m = p.json(digest);
    String what = "converted manifest " + digest;
    assertThat(m.path("mediaType").asText())
        .as("%s: mediaType", what)
        .isEqualTo(TestImages.OCI_MANIFEST);
    assertThat(m.path("annotations").path(SOURCE_DIGEST).asText())
        .as("%s: annotation %s", what, SOURCE_DIGEST)
        .isEqualTo(images.appManifest().digest());
    String config = m.path("config").path("digest").asText();
    assertThat(config)
        .as("%s: config blob digest (unchanged)", what)
        .isEqualTo(images.appConfig().digest());
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

  // ------------------------------------------------------------------ clients

  /** {@code skopeo copy docker://PROXY/lab/e2e/app:v1 oci:DIR:v1}. */
  private static PulledImage pullOci(Transship p, String name) {
    Path out = env.dir("pulls", name);
    long t0 = System.nanoTime();
    skopeo.copy("docker://" + p.hostPort() + "/" + APP + ":v1", "oci:" + out + ":v1");
    System.out.printf(
        "[e2e] skopeo copy of %s:v1 through %s: %d ms%n",
        APP, p, (System.nanoTime() - t0) / 1_000_000);
    return PulledImage.readOci(out);
  }

  private static String single(PulledImage p) {
    assertThat(p.topDigests()).as("top-level manifests in %s", p.dir()).hasSize(1);
    return p.topDigests().getFirst();
  }

  /** Regular files in a proxy's local cache, outside its temp directory. */
  private static List<String> cachedFiles(Transship p) {
    Path root = p.dataDir();
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile)
          .map(f -> root.relativize(f).toString())
          .filter(f -> !f.startsWith("."))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  // ------------------------------------------------------------------ containerd

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

  private static void assertTree(Containerd c, String ref, String snapshotter) {
    Path mnt = env.dir("mnt-s3-a");
    c.mountImage(ref, PLATFORM, snapshotter, mnt);
    try {
      SortedMap<String, FileTree.Node> actual = FileTree.scan(mnt);
      assertThat(FileTree.diff(images.expectedAppTree(), actual))
          .as(
              "unpacked tree of %s via replica A (%s) vs the layers' expected tree",
              ref, snapshotter)
          .isEmpty();
      for (List<String> group : images.appHardlinks()) {
        long ino = FileTree.inode(mnt.resolve(group.getFirst()));
        for (String other : group) {
          assertThat(FileTree.inode(mnt.resolve(other))).as("hardlink %s", group).isEqualTo(ino);
        }
      }
      System.out.printf(
          "[e2e] %s via replica A unpacked with %s: %d paths as expected%n",
          ref, snapshotter, actual.size());
    } finally {
      c.unmountImage(mnt);
    }
  }

  // ------------------------------------------------------------------ bytes

  private static String hex(String digest) {
    return digest.substring("sha256:".length());
  }

  private static Path blob(PulledImage p, String digest) {
    return p.dir().resolve("blobs/sha256").resolve(hex(digest));
  }

  private static Path unzstd(Path blob) {
    Path out = env.dir("tars").resolve("zstd-" + blob.getFileName() + ".tar");
    Cmd.of("zstd", "-d", "-q", "-f", blob.toString(), "-o", out.toString()).ok();
    return out;
  }

  private static synchronized Path originalTar(String gzipDigest) {
    return originalTars.computeIfAbsent(
        gzipDigest,
        d -> {
          Path out = env.dir("tars").resolve("gzip-" + hex(d) + ".tar");
          try (InputStream in = new GZIPInputStream(Files.newInputStream(images.blobPath(d)));
              OutputStream o = Files.newOutputStream(out)) {
            in.transferTo(o);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
          return out;
        });
  }

  private static byte[] readBytes(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String read(Path p) {
    return new String(readBytes(p), StandardCharsets.UTF_8);
  }

  private static JsonNode json(byte[] bytes) {
    try {
      return JSON.readTree(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
