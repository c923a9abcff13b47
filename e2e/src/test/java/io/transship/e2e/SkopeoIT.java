package io.transship.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * skopeo pulls through the proxy ({@code docker://PROXY/<alias>/<repo>:<tag>}) must give exactly
 * what a direct pull from the upstream gives: the same manifest, config and layer digests, the
 * manifest media type kept (Docker schema2 stays schema2), a whole multi-arch index with {@code
 * --all}, credentials supplied by the proxy for an auth upstream, and cached blobs served after the
 * upstream is gone.
 */
@Tag("e2e")
@ExtendWith(DumpLogsOnFailure.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SkopeoIT {
  private static E2eEnv env;
  private static TestImages images;
  private static Skopeo skopeo;
  private static DockerRegistry registry;
  private static DockerRegistry authRegistry;
  private static Transship proxy;

  @BeforeAll
  static void setUp() {
    Tools.require("skopeo", "docker-registry", "htpasswd", "tar");
    env = E2eEnv.create("skopeo");
    images = TestImages.build(env);
    skopeo = new Skopeo(env);
    registry = DockerRegistry.plain(env, "lab");
    authRegistry = DockerRegistry.withBasicAuth(env, "labauth");
    images.pushAll(skopeo, registry);
    images.pushApp(skopeo, authRegistry);
  }

  @AfterAll
  static void tearDown() {
    if (env != null) {
      env.close();
    }
  }

  /** Started on first use, so the direct (harness) checks run even without the jar. */
  private static Transship proxy() {
    if (proxy == null) {
      proxy =
          Transship.with("lab", registry)
              .with("labauth", authRegistry)
              .defaultUpstream("lab")
              .start(env, "skopeo");
    }
    return proxy;
  }

  private static Path out(String name) {
    return env.dir("pulls", name);
  }

  private static String direct(String repoTag) {
    return "docker://" + registry.hostPort() + "/" + repoTag;
  }

  private static String viaProxy(String alias, String repoTag) {
    return "docker://" + proxy().hostPort() + "/" + alias + "/" + repoTag;
  }

  private static SortedSet<String> appBlobs() {
    SortedSet<String> s = new TreeSet<>();
    s.add(images.appManifest().digest());
    s.add(images.appConfig().digest());
    images.appLayers().forEach(l -> s.add(l.digest()));
    return s;
  }

  @Test
  @Order(1)
  void directPullGivesTheBuiltImage() {
    // proves the harness: registry + push + pull keep the digests of the built layout
    PulledImage d = pullOci(direct("e2e/app:v1"), "direct-app");
    assertThat(d.topDigests()).containsExactly(images.appManifest().digest());
    assertThat(d.blobs()).isEqualTo(appBlobs());
  }

  @Test
  @Order(2)
  void ociImageThroughProxyIsIdenticalToDirect() {
    PulledImage d = pullOci(direct("e2e/app:v1"), "direct-app2");
    PulledImage p = pullOci(viaProxy("lab", "e2e/app:v1"), "proxy-app");
    assertThat(p.topDigests()).as("manifest digest via proxy").isEqualTo(d.topDigests());
    assertThat(p.blobs()).as("manifest, config and layer digests via proxy").isEqualTo(d.blobs());
    assertThat(p.blobs()).isEqualTo(appBlobs());
    JsonNode m = p.json(p.topDigests().getFirst());
    assertThat(m.path("mediaType").asText()).isEqualTo(TestImages.OCI_MANIFEST);
    assertThat(m.path("layers").findValuesAsText("mediaType"))
        .containsOnly(TestImages.OCI_LAYER_GZIP);
  }

  @Test
  @Order(3)
  void dockerSchema2ThroughProxyStaysSchema2() {
    PulledImage d = pullDir(direct("e2e/app:v1-docker"), "direct-docker");
    PulledImage p = pullDir(viaProxy("lab", "e2e/app:v1-docker"), "proxy-docker");
    assertThat(d.manifestJson().path("mediaType").asText()).isEqualTo(TestImages.DOCKER_MANIFEST);
    assertThat(p.manifestJson().path("mediaType").asText())
        .as("manifest media type via proxy")
        .isEqualTo(TestImages.DOCKER_MANIFEST);
    assertThat(p.topDigests()).as("schema2 manifest digest via proxy").isEqualTo(d.topDigests());
    assertThat(p.blobs()).isEqualTo(d.blobs());
    // same layers and config blob as the OCI image; only the manifest differs
    List<String> layers = images.appLayers().stream().map(TestImages.Blob::digest).toList();
    assertThat(p.blobs()).containsAll(layers).contains(images.appConfig().digest());
  }

  @Test
  @Order(4)
  void multiArchIndexThroughProxyWithAll() {
    PulledImage d = pullOci(direct("e2e/multi:v1"), "direct-multi", "--all");
    PulledImage p = pullOci(viaProxy("lab", "e2e/multi:v1"), "proxy-multi", "--all");
    assertThat(d.topDigests()).containsExactly(images.multiIndex().digest());
    assertThat(p.topDigests()).as("index digest via proxy").isEqualTo(d.topDigests());
    assertThat(p.blobs()).as("every blob of both platforms via proxy").isEqualTo(d.blobs());
    assertThat(p.blobs()).contains(images.appManifest().digest(), images.armManifest().digest());
    assertThat(p.json(p.topDigests().getFirst()).path("mediaType").asText())
        .isEqualTo(TestImages.OCI_INDEX);
  }

  @Test
  @Order(5)
  void inspectRawGivesTheSameBytes() {
    for (String tag : List.of("e2e/app:v1", "e2e/app:v1-docker", "e2e/multi:v1")) {
      String d = FileTree.sha256Hex(skopeo.inspectRaw(registry.hostPort() + "/" + tag));
      String p = FileTree.sha256Hex(skopeo.inspectRaw(proxy().hostPort() + "/lab/" + tag));
      assertThat(p).as("sha256 of skopeo inspect --raw %s via proxy", tag).isEqualTo(d);
    }
    assertThat(
            "sha256:" + FileTree.sha256Hex(skopeo.inspectRaw(registry.hostPort() + "/e2e/app:v1")))
        .isEqualTo(images.appManifest().digest());
  }

  @Test
  @Order(6)
  void basicAuthUpstreamGetsCredentialsFromTheProxy() {
    // the upstream really wants credentials ...
    Cmd.Result anonymous =
        skopeo
            .cmd(
                "inspect",
                "--tls-verify=false",
                "--raw",
                "docker://" + authRegistry.hostPort() + "/e2e/app:v1")
            .run();
    assertThat(anonymous.exitCode())
        .as("anonymous inspect on the auth registry must fail")
        .isNotZero();
    // ... the client sends none to the proxy, which has them in its config
    PulledImage d =
        pullOci(
            "docker://" + authRegistry.hostPort() + "/e2e/app:v1",
            "direct-auth",
            "--src-creds",
            DockerRegistry.USER + ":" + DockerRegistry.PASSWORD);
    PulledImage p = pullOci(viaProxy("labauth", "e2e/app:v1"), "proxy-auth");
    assertThat(p.topDigests()).isEqualTo(d.topDigests());
    assertThat(p.blobs()).isEqualTo(d.blobs()).isEqualTo(appBlobs());
  }

  @Test
  @Order(7)
  void writesAreRefused() {
    Cmd.Result push =
        skopeo
            .cmd(
                "copy",
                "--dest-tls-verify=false",
                images.ociRef("app"),
                viaProxy("lab", "e2e/pushed:v1"))
            .run();
    assertThat(push.exitCode()).as("skopeo push through the proxy must fail").isNotZero();
    HttpResponse<byte[]> post =
        Http.send(
            Http.request(proxy().url() + "/v2/lab/e2e/pushed/blobs/uploads/")
                .POST(java.net.http.HttpRequest.BodyPublishers.noBody())
                .build());
    assertThat(post.statusCode()).as("POST blob upload through the proxy").isEqualTo(405);
    Cmd.Result inspect =
        skopeo.cmd("inspect", "--tls-verify=false", "--raw", direct("e2e/pushed:v1")).run();
    assertThat(inspect.exitCode()).as("nothing reached the upstream").isNotZero();
  }

  @Test
  @Order(100) // stops the upstream: must stay last
  void cachedContentIsServedAfterTheUpstreamStops() {
    pullOci(viaProxy("lab", "e2e/app:v1"), "proxy-warm"); // warm (no-op if earlier tests ran)
    registry.stop();
    assertThat(Http.status(registry.url() + "/v2/")).as("upstream is down").isEqualTo(-1);

    for (TestImages.Blob b : images.appLayers()) {
      HttpResponse<byte[]> r = Http.get(proxy().url() + "/v2/lab/e2e/app/blobs/" + b.digest());
      assertThat(r.statusCode())
          .as("GET cached layer %s with the upstream down", b.digest())
          .isEqualTo(200);
      assertThat("sha256:" + FileTree.sha256Hex(r.body())).isEqualTo(b.digest());
    }
    PulledImage p =
        pullOci(
            viaProxy("lab", "e2e/app@" + images.appManifest().digest()), "proxy-offline-digest");
    assertThat(p.blobs()).as("pull by digest with the upstream down").isEqualTo(appBlobs());

    // by tag needs the tag -> digest mapping; report it, but "by digest" is the contract
    Cmd.Result byTag =
        skopeo
            .cmd(
                "copy",
                "--src-tls-verify=false",
                viaProxy("lab", "e2e/app:v1"),
                "oci:" + out("proxy-offline-tag") + ":v1")
            .run();
    System.out.println(
        "[e2e] pull by tag with the upstream down: "
            + (byTag.ok() ? "served from cache" : "failed: " + Cmd.tail(byTag.stderr(), 300)));
  }

  private static PulledImage pullOci(String src, String name, String... extra) {
    List<String> args = new ArrayList<>(List.of(extra));
    args.add(src);
    args.add("oci:" + out(name) + ":v1");
    skopeo.copy(args.toArray(String[]::new));
    return PulledImage.readOci(out(name));
  }

  private static PulledImage pullDir(String src, String name) {
    skopeo.copy(src, "dir:" + out(name));
    return PulledImage.readDir(out(name));
  }
}
