package io.transship.e2e;

import static io.transship.e2e.FileChecks.size;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * gzip to eStargz conversion on first pull, with real clients. One proxy whose upstream defaults to
 * {@code format: estargz} (with a prefetch rule for {@code lab/e2e/*}); skopeo pulls through the
 * {@code /v2/estargz/...} path selector. Checked:
 *
 * <ul>
 *   <li>skopeo gets OCI manifests (also for the Docker schema2 image, and a whole index with {@code
 *       --all}) whose layers stay {@code tar+gzip} but carry the TOC digest and uncompressed size
 *       annotations; each blob gunzips to bytes whose sha256 is the new config's diff_id; the new
 *       config differs from the original only in {@code rootfs.diff_ids}.
 *   <li>every eStargz blob passes the reference checker {@code esgz-verify} (stargz-snapshotter's
 *       library plus an independent parser) against its annotations, diff_id and original layer.
 *   <li>a lazy reader's view over HTTP ranges (this class's own parser): footer, TOC member, TOC
 *       digest, one file read from its TOC offset, landmarks and prioritized files, and a two-range
 *       GET answered as {@code multipart/byteranges}.
 *   <li>containerd pulls the converted image as a mirror (it verifies the new diff_ids on unpack)
 *       and unpacks the expected tree.
 *   <li>podman with overlay and {@code enable_partial_images} pulls it with ranged blob GETs.
 *   <li>Docker Engine 20.10 gets the eStargz image (eStargz is gzip: old engines unpack it).
 * </ul>
 */
@Tag("e2e")
@ExtendWith(DumpLogsOnFailure.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EstargzIT {
  static final String TOC_DIGEST = "containerd.io/snapshot/stargz/toc.digest";
  static final String UNCOMPRESSED_SIZE = "io.containers.estargz.uncompressed-size";
  static final String SOURCE_DIGEST = "io.transship.source.digest";
  static final String FORMAT = "io.transship.format";
  private static final String PLATFORM = "linux/amd64";
  private static final String APP = "lab/" + TestImages.APP_REPO;
  private static final String MULTI = "lab/" + TestImages.MULTI_REPO;
  private static final String SELECTOR = "estargz/";

  /** Files the prefetch rule prioritizes: one in the base layer, one in the app layer. */
  private static final List<String> PRIORITIZED = List.of("bin/tool", "app/suid");

  private static final String CONVERSION =
      """
      conversion:
        deadline: 60s
        estargz:
          prefetch:
            - { match: "lab/e2e/*", files: [%s] }
      """
          .formatted(String.join(", ", PRIORITIZED.stream().map(f -> '"' + f + '"').toList()));

  private static final String TOC_NAME = "stargz.index.json";
  private static final String PREFETCH_LANDMARK = ".prefetch.landmark";
  private static final String NO_PREFETCH_LANDMARK = ".no.prefetch.landmark";
  private static final int FOOTER_SIZE = 51;

  /** Docker Engine 20.10 exactly as it asks for a manifest: one Accept header with every type. */
  private static final String DOCKER_20_UA =
      "docker/20.10.24 go/go1.19.7 git-commit/5d6db84 kernel/6.1.0-18-amd64 os/linux"
          + " arch/amd64 UpstreamClient(Docker-Client/20.10.24 \\(linux\\))";

  private static final String DOCKER_20_ACCEPT =
      String.join(
          ", ",
          TestImages.DOCKER_MANIFEST,
          "application/vnd.docker.distribution.manifest.list.v2+json",
          TestImages.OCI_MANIFEST,
          TestImages.OCI_INDEX,
          "application/vnd.docker.distribution.manifest.v1+prettyjws",
          "application/json");

  private static final ObjectMapper JSON = new ObjectMapper();

  private static E2eEnv env;
  private static TestImages images;
  private static Skopeo skopeo;
  private static DockerRegistry registry;
  private static Transship proxy;

  /**
   * One eStargz layer as a client got it: the pulled blob, its descriptor annotations, the new
   * config's diff_id for it, and the original gzip layer fetched from the upstream.
   */
  record EsgzLayer(
      String digest, Path blob, JsonNode annotations, String diffId, Path original, String where) {}

  /** Every eStargz blob the skopeo tests pulled, by digest (checked by the oracle test). */
  private static final Map<String, EsgzLayer> pulledLayers = new LinkedHashMap<>();

  @BeforeAll
  static void setUp() {
    Tools.require("skopeo", "docker-registry", "tar");
    env = E2eEnv.create("estargz");
    images = TestImages.build(env);
    skopeo = new Skopeo(env);
    registry = DockerRegistry.plain(env, "lab");
    images.pushAll(skopeo, registry);
    proxy = Transship.with("lab", registry).format("estargz").yaml(CONVERSION).start(env, "esgz");
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
  void skopeoGetsTheOciImageWithEstargzLayers() {
    PulledImage p = pullOci(docker(SELECTOR + APP + ":v1"), "app");
    String converted = single(p);
    assertThat(converted)
        .as("manifest digest via /v2/estargz/ (the original is %s)", images.appManifest().digest())
        .isNotEqualTo(images.appManifest().digest());
    assertConvertedImage(
        p, converted, images.blobBytes(images.appManifest().digest()), TestImages.APP_REPO);
    assertThat(sha256(skopeo.inspectRaw(proxy.hostPort() + "/" + SELECTOR + APP + ":v1")))
        .as("skopeo inspect --raw via /v2/estargz/ gives the manifest pulled")
        .isEqualTo(converted);
    assertThat(sha256(skopeo.inspectRaw(proxy.hostPort() + "/" + APP + ":v1")))
        .as("the same image through the upstream default (format: estargz)")
        .isEqualTo(converted);
  }

  @Test
  @Order(2)
  void skopeoGetsTheDockerSchema2ImageAsOciWithEstargzLayers() {
    byte[] upstream =
        skopeo.inspectRaw(registry.hostPort() + "/" + TestImages.APP_REPO + ":v1-docker");
    assertThat(json(upstream).path("mediaType").asText()).isEqualTo(TestImages.DOCKER_MANIFEST);
    PulledImage p = pullOci(docker(SELECTOR + APP + ":v1-docker"), "app-docker");
    String converted = single(p);
    assertThat(converted).isNotEqualTo(sha256(upstream));
    assertConvertedImage(p, converted, upstream, TestImages.APP_REPO);
    assertThat(sha256(skopeo.inspectRaw(proxy.hostPort() + "/" + SELECTOR + APP + ":v1-docker")))
        .as("skopeo inspect --raw of v1-docker via /v2/estargz/: the OCI manifest pulled")
        .isEqualTo(converted);
    JsonNode app = json(skopeo.inspectRaw(proxy.hostPort() + "/" + SELECTOR + APP + ":v1"));
    assertThat(p.json(converted).path("layers").findValuesAsText("digest"))
        .as("eStargz layers of v1-docker vs those of v1 (the same gzip layers, converted once)")
        .isEqualTo(app.path("layers").findValuesAsText("digest"));
  }

  @Test
  @Order(3)
  void skopeoGetsTheMultiArchIndexConvertedWithAll() {
    PulledImage p = pullOci(docker(SELECTOR + MULTI + ":v1"), "multi", "--all");
    String converted = single(p);
    JsonNode source = json(images.blobBytes(images.multiIndex().digest()));
    JsonNode index = p.json(converted);
    assertThat(index.path("mediaType").asText()).isEqualTo(TestImages.OCI_INDEX);
    assertThat(converted)
        .as("index digest via /v2/estargz/ (the original is %s)", images.multiIndex().digest())
        .isNotEqualTo(images.multiIndex().digest());
    JsonNode children = index.path("manifests");
    assertThat(children.size()).as("children of the converted index").isEqualTo(2);
    for (int i = 0; i < children.size(); i++) {
      JsonNode child = children.get(i);
      JsonNode was = source.path("manifests").get(i);
      String platform = was.path("platform").toString();
      assertThat(child.path("platform"))
          .as("platform of child %d", i)
          .isEqualTo(was.path("platform"));
      assertThat(child.path("mediaType").asText()).isEqualTo(TestImages.OCI_MANIFEST);
      String digest = child.path("digest").asText();
      assertThat(digest)
          .as("child %s points at a converted manifest", platform)
          .isNotEqualTo(was.path("digest").asText());
      assertThat(child.path("size").asLong()).isEqualTo(size(blob(p, digest)));
      assertConvertedImage(
          p, digest, images.blobBytes(was.path("digest").asText()), TestImages.MULTI_REPO);
    }
    assertThat(children.get(0).path("digest").asText())
        .as("converted amd64 child vs the converted e2e/app:v1 (one conversion per source)")
        .isEqualTo(sha256(skopeo.inspectRaw(proxy.hostPort() + "/" + SELECTOR + APP + ":v1")));
  }

  // ------------------------------------------------------------------ 2. the reference checker

  @Test
  @Order(4)
  void everyEstargzBlobPassesTheReferenceVerifier() {
    Path verifier = oracle("esgz-verify");
    assertThat(pulledLayers)
        .as("eStargz layers pulled by the skopeo tests (did they fail?)")
        .hasSize(images.appLayers().size() + 1);
    SoftAssertions soft = new SoftAssertions();
    for (EsgzLayer l : pulledLayers.values()) {
      Path ann = env.dir("oracle").resolve(l.digest().substring(7, 19) + "-annotations.json");
      try {
        Files.write(ann, JSON.writeValueAsBytes(l.annotations()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Cmd.Result r =
          Cmd.of(
                  verifier.toString(),
                  "-annotations",
                  ann.toString(),
                  "-diff-id",
                  l.diffId(),
                  "-orig",
                  l.original().toString(),
                  l.blob().toString())
              .timeout(Duration.ofMinutes(2))
              .run();
      soft.assertThat(r.exitCode())
          .as("esgz-verify of %s (%s):\n%s", l.digest(), l.where(), r.describe())
          .isZero();
      String report =
          (r.stdout() + "\n" + r.stderr())
              .lines()
              .filter(line ->
                  line.startsWith("RESULT")
                      || line.startsWith("landmark")
                      || line.startsWith("chunks")
                      || line.startsWith("FAIL"))
              .map(line -> "    " + line)
              .collect(Collectors.joining("\n"));
      System.out.printf("[e2e] esgz-verify %s (%s):%n%s%n", l.digest(), l.where(), report);
    }
    soft.assertAll();
  }

  // ------------------------------------------------------------------ 3. lazy reads over ranges

  /**
   * What a lazy reader does, against the running proxy: the footer from the last 51 bytes, the TOC
   * member by range, the TOC's digest against the annotation, then one file from its TOC offset.
   */
  @Test
  @Order(5)
  void aLazyReaderFindsTheTocAndAFileThroughRanges() {
    JsonNode manifest = json(skopeo.inspectRaw(proxy.hostPort() + "/" + SELECTOR + APP + ":v1"));
    JsonNode layers = manifest.path("layers");
    assertThat(layers.size()).isEqualTo(images.appLayers().size());
    for (int i = 0; i < layers.size(); i++) {
      JsonNode layer = layers.get(i);
      String digest = layer.path("digest").asText();
      long size = layer.path("size").asLong();
      String url = blobUrl(SELECTOR + APP, digest);
      String what = "layer " + i + " " + digest;

      Toc toc = readToc(url, size, what);
      assertThat(sha256(toc.json()))
          .as("%s: sha256 of %s vs annotation %s", what, TOC_NAME, TOC_DIGEST)
          .isEqualTo(layer.path("annotations").path(TOC_DIGEST).asText());
      assertLandmarks(toc.entries(), what);

      if (i == 0) {
        readOneFile(url, size, toc, images.appLayers().get(i).digest(), what);
      }
    }
  }

  /** A layer's TOC as a lazy reader gets it: its offset, its JSON bytes and its entries. */
  record Toc(long offset, byte[] json, List<JsonNode> entries) {}

  /**
   * Reads the TOC of the eStargz blob at {@code url} with two ranged GETs: the footer (last 51
   * bytes, also asked as {@code bytes=-51}) for the TOC offset, then the TOC member, a gzip member
   * holding a tar with the single entry {@code stargz.index.json} and the end-of-archive blocks.
   */
  private static Toc readToc(String url, long size, String what) {
    byte[] footer = range(url, size - FOOTER_SIZE, size - 1, size);
    byte[] suffix = rangeHeader(url, "bytes=-" + FOOTER_SIZE, size - FOOTER_SIZE, size - 1, size);
    assertThat(suffix).as("%s: bytes=-51 vs the explicit last 51 bytes", what).isEqualTo(footer);
    long tocOffset = footerTocOffset(footer, what);
    assertThat(tocOffset).as("%s: TOC offset", what).isBetween(1L, size - FOOTER_SIZE - 1);

    byte[] tocTar = gunzip(range(url, tocOffset, size - FOOTER_SIZE - 1, size));
    TarHeader h = TarHeader.parse(tocTar, 0);
    assertThat(h.name()).as("%s: the TOC member's tar entry", what).isEqualTo(TOC_NAME);
    assertThat(h.type()).as("%s: type of %s", what, TOC_NAME).isIn('0', '\0');
    byte[] json = Arrays.copyOfRange(tocTar, 512, 512 + (int) h.size());
    int end = 512 + (int) ((h.size() + 511) / 512 * 512);
    assertThat(Arrays.copyOfRange(tocTar, end, tocTar.length))
        .as("%s: what follows %s in its member (the two end-of-archive blocks)", what, TOC_NAME)
        .isEqualTo(new byte[1024]);
    JsonNode toc = json(json);
    assertThat(toc.path("version").asInt()).as("%s: TOC version", what).isEqualTo(1);
    List<JsonNode> entries = new ArrayList<>();
    toc.path("entries").forEach(entries::add);
    assertThat(entries).as("%s: TOC entries", what).isNotEmpty();
    return new Toc(tocOffset, json, entries);
  }

  /**
   * One regular file fetched by its TOC {@code offset}: the range up to the next offset is one gzip
   * member whose decompressed bytes start with the file's content, the same bytes as in the
   * original layer. Then that member and the TOC member in one two-range GET, answered as {@code
   * multipart/byteranges} (as containers/storage asks for chunks).
   */
  private static void readOneFile(String url, long size, Toc toc, String original, String what) {
    long tocOffset = toc.offset();
    List<JsonNode> entries = toc.entries();
    String name = "usr/share/base-text.txt";
    JsonNode entry =
        entries.stream()
            .filter(e -> normalize(e.path("name").asText()).equals(name))
            .findFirst()
            .orElseThrow(() -> new AssertionError(what + ": no TOC entry " + name));
    assertThat(entry.path("type").asText()).isEqualTo("reg");
    long offset = entry.path("offset").asLong();
    long fileSize = entry.path("size").asLong();
    long next =
        entries.stream()
            .mapToLong(e -> e.path("offset").asLong(0))
            .filter(o -> o > offset)
            .min()
            .orElse(tocOffset);
    byte[] member = range(url, offset, next - 1, size);
    byte[] data = gunzip(member);
    assertThat((long) data.length)
        .as(
            "%s: decompressed bytes of the member at %d (%s, %d bytes)",
            what, offset, name, fileSize)
        .isGreaterThanOrEqualTo(fileSize);
    byte[] content = Arrays.copyOf(data, (int) fileSize);
    assertThat(sha256(content))
        .as("%s: sha256 of %s read at its TOC offset vs its TOC digest", what, name)
        .isEqualTo(entry.path("digest").asText());
    byte[] expected = tarFile(images.blobPath(original), name);
    assertThat(content)
        .as("%s: %s read at its TOC offset vs the file in the original layer", what, name)
        .isEqualTo(expected);

    String header =
        "bytes=" + offset + "-" + (next - 1) + "," + tocOffset + "-" + (size - FOOTER_SIZE - 1);
    HttpResponse<byte[]> r = Http.send(Http.request(url).header("Range", header).GET().build());
    String contentType = r.headers().firstValue("Content-Type").orElse(null);
    assertThat(r.statusCode())
        .as("GET %s Range: %s (Content-Type %s)", url, header, contentType)
        .isEqualTo(206);
    List<ByteRanges.Part> parts = ByteRanges.parse(r.body(), ByteRanges.boundary(contentType));
    assertThat(parts).as("parts of the answer to Range: %s", header).hasSize(2);
    assertThat(new long[] {parts.get(0).first(), parts.get(0).last(), parts.get(0).complete()})
        .containsExactly(offset, next - 1, size);
    assertThat(parts.get(0).data()).as("part 0 (the file's member)").isEqualTo(member);
    assertThat(new long[] {parts.get(1).first(), parts.get(1).last(), parts.get(1).complete()})
        .containsExactly(tocOffset, size - FOOTER_SIZE - 1, size);
    assertThat(gunzip(parts.get(1).data()))
        .as("part 1 (the TOC member), gunzipped")
        .startsWith(TarHeader.nameBytes(TOC_NAME));
  }

  /**
   * Landmarks: a layer holding a prioritized file starts with it (after its parent directories),
   * then {@code .prefetch.landmark}; any other layer has {@code .no.prefetch.landmark} first.
   */
  private static void assertLandmarks(List<JsonNode> entries, String what) {
    List<String> names = entries.stream().map(e -> normalize(e.path("name").asText())).toList();
    List<String> prioritized = PRIORITIZED.stream().filter(names::contains).toList();
    System.out.printf(
        "[e2e] %s: %d TOC entries, first %s%n",
        what, names.size(), names.subList(0, Math.min(6, names.size())));
    if (prioritized.isEmpty()) {
      assertThat(names).as("%s: TOC entries", what).doesNotContain(PREFETCH_LANDMARK);
      assertThat(names.getFirst())
          .as("%s: first TOC entry (no prioritized file in this layer)", what)
          .isEqualTo(NO_PREFETCH_LANDMARK);
      return;
    }
    int landmark = names.indexOf(PREFETCH_LANDMARK);
    assertThat(landmark)
        .as("%s: position of %s in %s", what, PREFETCH_LANDMARK, names)
        .isPositive();
    assertThat(names).doesNotContain(NO_PREFETCH_LANDMARK);
    for (String f : prioritized) {
      assertThat(names.indexOf(f))
          .as("%s: position of prioritized %s", what, f)
          .isLessThan(landmark);
    }
    for (int j = 0; j < landmark; j++) {
      JsonNode e = entries.get(j);
      if (e.path("type").asText().equals("reg")) {
        assertThat(prioritized)
            .as("%s: regular file before %s", what, PREFETCH_LANDMARK)
            .contains(names.get(j));
      }
    }
  }

  // ------------------------------------------------------------------ 4. containerd

  @Test
  @Order(6)
  void containerdPullsAndUnpacksTheEstargzImageThroughTheMirror() {
    Tools.require("containerd", "ctr", "runc");
    String repoTag = TestImages.APP_REPO + ":v1";
    Path hosts = Containerd.writeMirrorHosts(env.dir("hosts"), registry.hostPort(), proxy.url());
    long regMark = registry.daemon().logMark();
    long proxyMark = proxy.daemon().logMark();
    String converted = sha256(skopeo.inspectRaw(proxy.hostPort() + "/" + APP + ":v1"));
    try (Containerd c = Containerd.start(env, "esgz")) {
      String ref = registry.hostPort() + "/" + repoTag;
      // unpacking checks every layer's uncompressed sha256 against the (new) config's diff_ids
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
      assertThat(listedDigest(c, ref))
          .as("digest of %s in ctr images ls vs the eStargz conversion", ref)
          .isEqualTo(converted);
      JsonNode m = json(c.ctr("content", "get", converted).ok().stdoutBytes());
      String content = c.ctr("content", "ls", "-q").ok().stdout();
      for (JsonNode layer : m.path("layers")) {
        assertThat(layer.path("annotations").has(TOC_DIGEST)).isTrue();
        assertThat(content)
            .as("containerd's content store")
            .contains(layer.path("digest").asText());
      }
      for (TestImages.Blob gz : images.appLayers()) {
        assertThat(content)
            .as("original gzip layer in containerd's store")
            .doesNotContain(gz.digest());
      }
      assertTree(c, ref, snapshotter, expectedTree(m, APP));
    }
  }

  // ------------------------------------------------------------------ 5. podman

  /**
   * podman with overlay and {@code enable_partial_images} pulls the eStargz image through the path
   * selector: containers/storage reads each layer's footer and TOC with ranged GETs, checks the TOC
   * against the toc.digest annotation, fetches the file chunks with single and multi-range GETs and
   * checks each chunk's digest. The proxy's access log (which has no request headers) must show
   * only 206 answers for every layer's blob, and podman must say it retrieved each as a partial
   * blob.
   */
  @Test
  @Order(7)
  void podmanPartialPullFetchesTheEstargzLayersWithRanges() {
    String image = SELECTOR + APP + ":v1";
    String ref = proxy.hostPort() + "/" + image;
    byte[] served = skopeo.inspectRaw(ref);
    JsonNode manifest = json(served);
    List<String> layers = manifest.path("layers").findValuesAsText("digest");
    long mark = proxy.daemon().logMark();
    try (Podman podman = Podman.partial(env, "esgz")) {
      Cmd.Result pull = podman.pull(ref, "--tls-verify=false", "--log-level=debug").run();
      List<String> partial = pull.stderr().lines().filter(l -> l.contains("partial blob")).toList();
      List<Access> blobGets =
          proxyAccesses(mark).stream()
              .filter(a -> a.method().equals("GET") && a.uri().contains("/blobs/"))
              .toList();
      String seen =
          blobGets.stream()
              .map(a -> "    " + a.status() + " " + a.bytes() + "B " + a.uri())
              .collect(Collectors.joining("\n"));
      System.out.printf(
          "[e2e] podman partial pull in %d ms; blob GETs in the proxy's access log:%n%s%n"
              + "[e2e] podman's debug lines about partial blobs:%n%s%n",
          pull.ms(), seen, String.join("\n", partial));
      pull.assertOk();

      for (String layer : layers) {
        assertThat(partial)
            .as("podman --log-level=debug lines about partial blobs (layer %s)", layer)
            .anyMatch(l -> l.contains("Retrieved partial blob " + layer));
        assertThat(blobGets)
            .as("ranged (206) GETs of eStargz layer %s in the proxy's access log:%n%s", layer, seen)
            .anyMatch(a -> a.uri().endsWith(layer) && a.status() == 206);
        assertThat(blobGets)
            .as("GETs of eStargz layer %s answered other than 206 (a full download)", layer)
            .noneMatch(a -> a.uri().endsWith(layer) && a.status() != 206);
      }
      assertThat(podman.inspect(ref).path("Digest").asText())
          .as("podman's digest of %s", ref)
          .isEqualTo(sha256(served));
      Path root = podman.mountImage(ref);
      try {
        List<String> diff = FileTree.diff(podmanPartialTree(), FileTree.scan(root));
        assertThat(diff)
            .as(
                "tree of %s as podman stored it (partial pull, overlay) vs the expected tree"
                    + " (see podmanPartialTree for podman 4.3's differences)",
                ref)
            .isEmpty();
      } finally {
        podman.unmountImage(ref);
      }
    }
  }

  /**
   * What podman 4.3 (containers/storage's chunked differ) makes of the app image's eStargz layers
   * in a partial pull: it creates the files the TOC lists, so there is no {@code stargz.index.json}
   * (not a TOC entry) and no landmark file (skipped), and it does not apply the TOC's {@code
   * uid}/{@code gid}: every file belongs to 0:0. A layer built by stargz-snapshotter's own library
   * ({@code esgz-build}) from the same original comes out the same way, and a non-partial overlay
   * pull of the proxy's layer keeps 1000:1000 and the landmark files (checked by hand with podman
   * 4.3.1): podman's behaviour, not the proxy's. Containerd's unpack is checked against the full
   * tree above.
   */
  private static SortedMap<String, FileTree.Node> podmanPartialTree() {
    SortedMap<String, FileTree.Node> tree = images.expectedAppTree();
    tree.replaceAll(
        (path, n) -> new FileTree.Node(n.type(), n.mode(), 0, 0, n.size(), n.sha256(), n.target()));
    return tree;
  }

  // ------------------------------------------------------------------ 6. Docker 20.10

  @Test
  @Order(8)
  void docker20GetsTheEstargzImage() {
    String converted = sha256(skopeo.inspectRaw(proxy.hostPort() + "/" + APP + ":v1"));
    assertThat(converted).isNotEqualTo(images.appManifest().digest());
    for (String repo : List.of(APP, SELECTOR + APP)) {
      HttpResponse<byte[]> r = docker20(repo, "v1", "GET");
      assertServed(r, "Docker 20.10 GET /v2/" + repo + "/manifests/v1", converted);
      HttpResponse<byte[]> head = docker20(repo, "v1", "HEAD");
      assertThat(head.statusCode()).isEqualTo(200);
      assertThat(head.headers().firstValue("Docker-Content-Digest"))
          .as("Docker 20.10 HEAD /v2/%s/manifests/v1", repo)
          .hasValue(converted);
      assertThat(json(r.body()).path("layers").findValuesAsText("mediaType"))
          .containsOnly(TestImages.OCI_LAYER_GZIP);
    }
    String index = sha256(skopeo.inspectRaw(proxy.hostPort() + "/" + MULTI + ":v1"));
    assertThat(index).isNotEqualTo(images.multiIndex().digest());
    assertServed(docker20(MULTI, "v1", "GET"), "Docker 20.10 GET " + MULTI + ":v1", index);
    // the same client asking for zstd gets the original: the engine can't unpack zstd
    assertServed(
        docker20("zstd/" + APP, "v1", "GET"),
        "Docker 20.10 GET /v2/zstd/" + APP + ":v1",
        images.appManifest().digest());
  }

  // ------------------------------------------------------------------ checks

  /**
   * {@code digest} in {@code p} is the eStargz conversion of the manifest {@code sourceBytes}: OCI,
   * a new config equal to the original but for {@code rootfs.diff_ids}, every layer a {@code
   * tar+gzip} blob with both eStargz annotations whose gunzipped bytes hash to the new diff_id.
   */
  private static void assertConvertedImage(
      PulledImage p, String digest, byte[] sourceBytes, String upstreamRepo) {
    JsonNode source = json(sourceBytes);
    JsonNode m = p.json(digest);
    String what = "converted manifest " + digest;
    assertThat(m.path("mediaType").asText())
        .as("%s: mediaType", what)
        .isEqualTo(TestImages.OCI_MANIFEST);
    assertThat(m.path("annotations").path(SOURCE_DIGEST).asText())
        .as("%s: annotation %s", what, SOURCE_DIGEST)
        .isEqualTo(sha256(sourceBytes));
    assertThat(m.path("annotations").path(FORMAT).asText())
        .as("%s: annotation %s", what, FORMAT)
        .isEqualTo("estargz");

    String sourceConfig = source.path("config").path("digest").asText();
    String config = m.path("config").path("digest").asText();
    assertThat(config)
        .as("%s: config digest (diff_ids rewritten, so a new config)", what)
        .isNotEqualTo(sourceConfig);
    assertThat(m.path("config").path("mediaType").asText()).isEqualTo(TestImages.OCI_CONFIG);
    assertThat(p.blobs()).contains(config).doesNotContain(sourceConfig);
    assertThat(m.path("config").path("size").asLong()).isEqualTo(size(blob(p, config)));
    JsonNode newConfig = p.json(config);
    JsonNode oldConfig = json(images.blobBytes(sourceConfig));
    assertThat(withoutDiffIds(newConfig))
        .as("%s: config %s without rootfs.diff_ids vs the original's", what, config)
        .isEqualTo(withoutDiffIds(oldConfig));
    assertThat(newConfig.path("history"))
        .as("%s: history", what)
        .isEqualTo(oldConfig.path("history"));
    assertThat(newConfig.path("history").size()).isPositive();
    List<String> ids = new ArrayList<>();
    newConfig.path("rootfs").path("diff_ids").forEach(d -> ids.add(d.asText()));
    List<String> oldIds = new ArrayList<>();
    oldConfig.path("rootfs").path("diff_ids").forEach(d -> oldIds.add(d.asText()));

    JsonNode layers = m.path("layers");
    JsonNode sourceLayers = source.path("layers");
    assertThat(layers.size()).as("%s: layer count", what).isEqualTo(sourceLayers.size());
    assertThat(ids).as("diff_ids of config %s", config).hasSize(layers.size());
    for (int i = 0; i < layers.size(); i++) {
      JsonNode layer = layers.get(i);
      String original = sourceLayers.get(i).path("digest").asText();
      String esgz = layer.path("digest").asText();
      String where = what + " layer " + i + " (was " + original + ")";
      assertThat(layer.path("mediaType").asText())
          .as("%s: mediaType", where)
          .isEqualTo(TestImages.OCI_LAYER_GZIP);
      assertThat(esgz).as("%s: digest", where).isNotEqualTo(original);
      JsonNode ann = layer.path("annotations");
      assertThat(ann.path(TOC_DIGEST).asText())
          .as("%s: annotation %s in %s", where, TOC_DIGEST, ann)
          .matches("sha256:[0-9a-f]{64}");
      assertThat(ann.path(UNCOMPRESSED_SIZE).asText())
          .as("%s: annotation %s in %s", where, UNCOMPRESSED_SIZE, ann)
          .matches("[1-9][0-9]*");
      assertThat(p.blobs()).as("pulled blobs").contains(esgz).doesNotContain(original);
      Path blob = blob(p, esgz);
      assertThat(size(blob)).as("%s: size", where).isEqualTo(layer.path("size").asLong());
      Gunzipped gunzipped = gunzipDigest(blob);
      assertThat(gunzipped.digest())
          .as("%s: sha256 of the gunzipped blob vs the new config's diff_id", where)
          .isEqualTo(ids.get(i));
      assertThat(ids.get(i))
          .as("%s: new diff_id vs the old one", where)
          .isNotEqualTo(oldIds.get(i));
      assertThat(gunzipped.size())
          .as("%s: gunzipped size vs %s", where, UNCOMPRESSED_SIZE)
          .isEqualTo(Long.parseLong(ann.path(UNCOMPRESSED_SIZE).asText()));
      EsgzLayer seen =
          new EsgzLayer(esgz, blob, ann, ids.get(i), upstreamBlob(upstreamRepo, original), where);
      EsgzLayer before = pulledLayers.putIfAbsent(esgz, seen);
      if (before != null) {
        assertThat(before.annotations()).as("%s: annotations", where).isEqualTo(ann);
        assertThat(before.diffId()).as("%s: diff_id", where).isEqualTo(ids.get(i));
      }
    }
  }

  private static JsonNode withoutDiffIds(JsonNode config) {
    ObjectNode copy = config.deepCopy();
    ((ObjectNode) copy.path("rootfs")).remove("diff_ids");
    return copy;
  }

  private static void assertServed(HttpResponse<byte[]> r, String what, String digest) {
    assertThat(r.statusCode()).as("%s: status", what).isEqualTo(200);
    assertThat(r.headers().firstValue("Docker-Content-Digest"))
        .as("%s: Docker-Content-Digest", what)
        .hasValue(digest);
    assertThat(sha256(r.body())).as("%s: sha256 of the body", what).isEqualTo(digest);
  }

  // ------------------------------------------------------------------ eStargz bytes

  /** The TOC offset from a 51-byte footer, checking its fixed bytes (formats.md). */
  private static long footerTocOffset(byte[] f, String what) {
    assertThat(f).as("%s: footer length", what).hasSize(FOOTER_SIZE);
    String hex = HexFormat.of().formatHex(f);
    assertThat(Arrays.copyOfRange(f, 0, 4))
        .as("%s: footer %s: gzip magic, deflate, FEXTRA", what, hex)
        .isEqualTo(new byte[] {0x1f, (byte) 0x8b, 8, 4});
    assertThat(Arrays.copyOfRange(f, 10, 16))
        .as("%s: footer %s: XLEN 26, subfield SG of 22 bytes", what, hex)
        .isEqualTo(new byte[] {26, 0, 'S', 'G', 22, 0});
    assertThat(new String(f, 32, 6, StandardCharsets.US_ASCII))
        .as("%s: footer %s", what, hex)
        .isEqualTo("STARGZ");
    assertThat(Arrays.copyOfRange(f, 38, 51))
        .as("%s: footer %s: empty stored block, CRC 0, ISIZE 0", what, hex)
        .isEqualTo(new byte[] {1, 0, 0, (byte) 0xff, (byte) 0xff, 0, 0, 0, 0, 0, 0, 0, 0});
    String offset = new String(f, 16, 16, StandardCharsets.US_ASCII);
    assertThat(offset).as("%s: TOC offset field", what).matches("[0-9a-f]{16}");
    return Long.parseLong(offset, 16);
  }

  /** A 206 answer to {@code bytes=first-last}, checked, its body returned. */
  private static byte[] range(String url, long first, long last, long size) {
    return rangeHeader(url, "bytes=" + first + "-" + last, first, last, size);
  }

  private static byte[] rangeHeader(String url, String header, long first, long last, long size) {
    HttpResponse<byte[]> r = Http.send(Http.request(url).header("Range", header).GET().build());
    String what = "GET " + url + " Range: " + header;
    assertThat(r.statusCode()).as("%s: status", what).isEqualTo(206);
    assertThat(r.headers().firstValue("Content-Range"))
        .as("%s: Content-Range", what)
        .hasValue("bytes " + first + "-" + last + "/" + size);
    assertThat((long) r.body().length).as("%s: body length", what).isEqualTo(last - first + 1);
    return r.body();
  }

  private static String blobUrl(String repo, String digest) {
    return proxy.url() + "/v2/" + repo + "/blobs/" + digest;
  }

  /** One tar header: name (GNU longnames resolved by the caller), type flag, size. */
  record TarHeader(String name, char type, long size) {
    static TarHeader parse(byte[] b, int at) {
      String name = cString(b, at, 100);
      char type = (char) b[at + 156];
      long size = octal(b, at + 124, 12);
      return new TarHeader(name, type, size);
    }

    static byte[] nameBytes(String name) {
      return name.getBytes(StandardCharsets.UTF_8);
    }
  }

  private static String cString(byte[] b, int at, int len) {
    int end = at;
    while (end < at + len && b[end] != 0) {
      end++;
    }
    return new String(b, at, end - at, StandardCharsets.UTF_8);
  }

  private static long octal(byte[] b, int at, int len) {
    String s = cString(b, at, len).trim();
    return s.isEmpty() ? 0 : Long.parseLong(s, 8);
  }

  /** The content of the regular file {@code name} (without "./") in a gzip tar layer. */
  private static byte[] tarFile(Path gzipLayer, String name) {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(gzipLayer), 1 << 16)) {
      String longName = null;
      while (true) {
        byte[] h = in.readNBytes(512);
        if (h.length < 512 || Arrays.equals(h, new byte[512])) {
          throw new AssertionError("no regular file " + name + " in " + gzipLayer);
        }
        TarHeader t = TarHeader.parse(h, 0);
        byte[] data = in.readNBytes((int) ((t.size() + 511) / 512 * 512));
        if (t.type() == 'L') {
          longName = cString(data, 0, (int) t.size());
          continue;
        }
        String n = normalize(longName != null ? longName : t.name());
        longName = null;
        if (n.equals(name) && (t.type() == '0' || t.type() == '\0')) {
          return Arrays.copyOf(data, (int) t.size());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String normalize(String tarName) {
    String n = tarName.startsWith("./") ? tarName.substring(2) : tarName;
    return n.endsWith("/") ? n.substring(0, n.length() - 1) : n;
  }

  private static byte[] gunzip(byte[] gz) {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new AssertionError("not gzip: " + e, e);
    }
  }

  /** The sha256 and length of a gzip file's decompressed bytes (all members). */
  record Gunzipped(String digest, long size) {}

  private static Gunzipped gunzipDigest(Path gz) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      long n = 0;
      try (InputStream in =
          new DigestInputStream(new GZIPInputStream(Files.newInputStream(gz), 1 << 16), md)) {
        byte[] buf = new byte[1 << 16];
        for (int r; (r = in.read(buf)) > 0; ) {
          n += r;
        }
      }
      return new Gunzipped("sha256:" + HexFormat.of().formatHex(md.digest()), n);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // ------------------------------------------------------------------ the proxy's access log

  /**
   * One line of the proxy's access log: {@code access <client> GET "<uri>" <status> <bytes>B ...}
   * (docs/operations.md).
   */
  record Access(String method, String uri, int status, long bytes) {}

  private static final Pattern ACCESS =
      Pattern.compile("\\baccess (?:\\S+ )?([A-Z]+) \"?([^\"\\s]+)\"? (\\d{3}) (\\d+)B");

  private static List<Access> proxyAccesses(long mark) {
    return proxy
        .daemon()
        .logSince(mark)
        .lines()
        .map(ACCESS::matcher)
        .filter(Matcher::find)
        .map(m ->
            new Access(
                m.group(1), m.group(2), Integer.parseInt(m.group(3)), Long.parseLong(m.group(4))))
        .toList();
  }

  /**
   * The app image's tree as an unpacker makes it of the eStargz layers: the original tree plus the
   * files eStargz adds at the root of every layer, as plain tar entries with only name, type and
   * size (mode 0, owner 0:0): the landmark files (one byte 0x0f) and {@code stargz.index.json},
   * whose content is the TOC of the topmost layer.
   */
  private static SortedMap<String, FileTree.Node> expectedTree(JsonNode manifest, String repo) {
    SortedMap<String, FileTree.Node> tree = images.expectedAppTree();
    JsonNode layers = manifest.path("layers");
    Toc top = null;
    for (int i = 0; i < layers.size(); i++) {
      JsonNode layer = layers.get(i);
      long size = layer.path("size").asLong();
      String digest = layer.path("digest").asText();
      Toc toc = readToc(blobUrl(repo, digest), size, digest);
      for (JsonNode e : toc.entries()) {
        String name = normalize(e.path("name").asText());
        if (name.equals(PREFETCH_LANDMARK) || name.equals(NO_PREFETCH_LANDMARK)) {
          tree.put(name, FileTree.Node.file(0, 0, 0, new byte[] {0x0f}));
        }
      }
      top = toc;
    }
    if (top != null) {
      tree.put(TOC_NAME, FileTree.Node.file(0, 0, 0, top.json()));
    }
    return tree;
  }

  // ------------------------------------------------------------------ the oracle

  /**
   * A checker built by {@code ../shared/tools/oracle/build.sh} next to the repository. Missing
   * binary: a failure that says how to build it; no {@code ../shared/tools/oracle} at all (a clone
   * on its own): the caller's oracle checks are skipped.
   */
  static Path oracle(String tool) {
    Path module = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
    Path repo = module.toAbsolutePath().normalize().getParent();
    Path dir = repo.resolveSibling("shared").resolve("tools/oracle");
    Assumptions.assumeTrue(
        Files.isDirectory(dir),
        "no " + dir + " beside the repository: the reference eStargz checks are skipped");
    Path bin = dir.resolve("bin").resolve(tool);
    if (!Files.isExecutable(bin)) {
      throw new AssertionError(
          bin + " is missing: run ../shared/tools/oracle/build.sh (from " + repo + ") first");
    }
    return bin;
  }

  // ------------------------------------------------------------------ clients

  private static String docker(String image) {
    return "docker://" + proxy.hostPort() + "/" + image;
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

  private static HttpResponse<byte[]> docker20(String repo, String tag, String method) {
    return Http.send(
        Http.request(proxy.url() + "/v2/" + repo + "/manifests/" + tag)
            .header("User-Agent", DOCKER_20_UA)
            .header("Accept", DOCKER_20_ACCEPT)
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build());
  }

  /** The original gzip layer as the upstream serves it, saved once per digest. */
  private static synchronized Path upstreamBlob(String repo, String digest) {
    Path out = env.dir("upstream-blobs").resolve(digest.substring("sha256:".length()));
    if (!Files.exists(out)) {
      HttpResponse<byte[]> r = Http.get(registry.url() + "/v2/" + repo + "/blobs/" + digest);
      assertThat(r.statusCode()).as("GET %s from the upstream", digest).isEqualTo(200);
      assertThat(sha256(r.body())).isEqualTo(digest);
      try {
        Files.write(out, r.body());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
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

  private static void assertTree(
      Containerd c, String ref, String snapshotter, SortedMap<String, FileTree.Node> expected) {
    Path mnt = env.dir("mnt-containerd");
    c.mountImage(ref, PLATFORM, snapshotter, mnt);
    try {
      SortedMap<String, FileTree.Node> actual = FileTree.scan(mnt);
      List<String> diff = FileTree.diff(expected, actual);
      assertThat(diff)
          .as(
              "unpacked tree of the eStargz image %s (%s) vs the layers' expected tree",
              ref, snapshotter)
          .isEmpty();
      for (List<String> group : images.appHardlinks()) {
        long ino = FileTree.inode(mnt.resolve(group.getFirst()));
        for (String other : group) {
          assertThat(FileTree.inode(mnt.resolve(other))).as("hardlink %s", group).isEqualTo(ino);
        }
      }
    } finally {
      c.unmountImage(mnt);
    }
  }

  // ------------------------------------------------------------------ small things

  private static Path blob(PulledImage p, String digest) {
    return p.dir().resolve("blobs/sha256").resolve(digest.substring("sha256:".length()));
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
