package io.transship.server.component;

import static io.transship.server.component.ConversionProxyTest.ACCEPT_ALL;
import static io.transship.server.component.ConversionProxyTest.CONTAINERD;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.transship.oci.Digest;
import io.transship.oci.MediaTypes;
import io.transship.server.config.ConversionConfig;
import io.transship.server.config.EdgeConfig;
import io.transship.server.testing.FakeUpstream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With access rules on, content cached by digest is served through a repository only when that
 * repository holds it: a user allowed to pull one repository cannot read what a privileged user
 * pulled from a private one by asking for its digests through the allowed name. The upstream (a
 * fake that, like real registries, serves a blob only from repositories it was pushed to) decides.
 */
class RepositoryLinksTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ALICE = basic("alice", "alice-Secret-1");
  private static final String ADMIN = basic("admin", "admin-Secret-2");

  @TempDir Path dir;
  FakeUpstream upstream;
  ProxyHarness harness;
  byte[] shared;
  TestImages.Image secret;
  TestImages.Image own;

  @BeforeEach
  void start() throws Exception {
    upstream = FakeUpstream.start();
    upstream.enforceRepositoryMembership(true);
    shared = TestImages.tar(901, 3, 100_000);
    secret =
        TestImages.pushTars(
            upstream, "secret/b", "v1", List.of(shared, TestImages.tar(902, 3, 100_000)), false);
    own =
        TestImages.pushTars(
            upstream, "team/a", "v1", List.of(shared, TestImages.tar(903, 3, 100_000)), false);
  }

  private void startProxy(String format) throws Exception {
    EdgeConfig.Auth auth =
        new EdgeConfig.Auth(
            null,
            Map.of(
                "alice", new EdgeConfig.User(null, "alice-Secret-1"),
                "admin", new EdgeConfig.User(null, "admin-Secret-2")),
            List.of(
                new EdgeConfig.AccessRule(List.of("alice"), List.of("fake/team/a")),
                new EdgeConfig.AccessRule(List.of("admin"), List.of("fake/**"))),
            "bearer",
            null,
            Duration.ofMinutes(5),
            null,
            Duration.ofMinutes(5));
    harness =
        ProxyHarness.start(
            EdgeHarness.withEdge(
                ProxyHarness.config(
                    upstream,
                    dir.resolve("data"),
                    Duration.ofMinutes(1),
                    null,
                    null,
                    format,
                    new ConversionConfig(Duration.ofSeconds(30), 3, 2, 2, false, true)),
                new EdgeConfig(null, auth, null, List.of())),
            upstream);
  }

  @AfterEach
  void stop() throws Exception {
    if (harness != null) {
      harness.close();
    }
    upstream.close();
  }

  private static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  /** Pulls as a client does: the manifest by tag, then config and every layer by digest. */
  private List<String> pull(String repo, String auth) throws Exception {
    HttpResponse<byte[]> manifest =
        harness.get(
            "/v2/fake/" + repo + "/manifests/v1",
            "Authorization",
            auth,
            "User-Agent",
            CONTAINERD,
            "Accept",
            ACCEPT_ALL);
    assertThat(manifest.statusCode()).as("manifest of %s", repo).isEqualTo(200);
    List<String> digests = new ArrayList<>();
    digests.add(manifest.headers().firstValue("Docker-Content-Digest").orElseThrow());
    JsonNode json = JSON.readTree(manifest.body());
    List<String> blobs = new ArrayList<>();
    blobs.add(json.path("config").path("digest").asText());
    json.path("layers").forEach(layer -> blobs.add(layer.path("digest").asText()));
    for (String digest : blobs) {
      HttpResponse<byte[]> blob =
          harness.get("/v2/fake/" + repo + "/blobs/" + digest, "Authorization", auth);
      assertThat(blob.statusCode()).as("blob %s of %s", digest, repo).isEqualTo(200);
      assertThat(Digest.sha256(blob.body()).toString()).isEqualTo(digest);
      digests.add(digest);
    }
    return digests;
  }

  private static String code(HttpResponse<byte[]> response) throws Exception {
    return JSON.readTree(response.body()).path("errors").path(0).path("code").asText();
  }

  @Test
  void cachedContentOfAPrivateRepositoryIsNotServedThroughAnotherRepository() throws Exception {
    startProxy("none");
    pull("secret/b", ADMIN); // cached now: manifest, config, both layers
    Digest privateLayer = secret.layers().get(1);

    upstream.resetCounts();
    HttpResponse<byte[]> blob =
        harness.get("/v2/fake/team/a/blobs/" + privateLayer, "Authorization", ALICE);
    assertThat(blob.statusCode()).isEqualTo(404);
    assertThat(code(blob)).isEqualTo("BLOB_UNKNOWN");
    HttpResponse<byte[]> head =
        harness.head("/v2/fake/team/a/blobs/" + privateLayer, "Authorization", ALICE);
    assertThat(head.statusCode()).isEqualTo(404);
    HttpResponse<byte[]> manifest =
        harness.get(
            "/v2/fake/team/a/manifests/" + secret.manifest(),
            "Authorization",
            ALICE,
            "Accept",
            ACCEPT_ALL);
    assertThat(manifest.statusCode()).isEqualTo(404);
    assertThat(code(manifest)).isEqualTo("MANIFEST_UNKNOWN");
    // the upstream decided, asked for the repository alice named
    assertThat(upstream.count("HEAD", "/v2/team/a/blobs/" + privateLayer)).isGreaterThan(0);
    assertThat(upstream.count("HEAD", "/v2/team/a/manifests/" + secret.manifest())).isEqualTo(1);
    // and the refusal did not make the private repository any less readable to its user
    assertThat(harness.get("/v2/fake/secret/b/blobs/" + privateLayer, "Authorization", ADMIN))
        .extracting(HttpResponse::statusCode)
        .isEqualTo(200);

    // asked for directly, the layer her repository shares with the private one (cached through
    // the other repository) is confirmed by one upstream HEAD in her repository, then served
    Digest sharedLayer = own.layers().get(0);
    upstream.resetCounts();
    HttpResponse<byte[]> sharedBlob =
        harness.get("/v2/fake/team/a/blobs/" + sharedLayer, "Authorization", ALICE);
    assertThat(sharedBlob.statusCode()).isEqualTo(200);
    assertThat(Digest.sha256(sharedBlob.body())).isEqualTo(sharedLayer);
    assertThat(upstream.count("HEAD", "/v2/team/a/blobs/" + sharedLayer)).isEqualTo(1);
    assertThat(upstream.count("GET", "/blobs/")).isZero();

    // her own image works, including the layer it shares with the private one (cached earlier)
    List<String> pulled = pull("team/a", ALICE);
    assertThat(pulled).contains(own.layers().get(0).toString());
    assertThat(own.layers().get(0)).isEqualTo(secret.layers().get(0));
    // a second pull costs the upstream nothing but the tag: every digest is linked now
    upstream.resetCounts();
    pull("team/a", ALICE);
    assertThat(upstream.count("HEAD", "/blobs/")).isZero();
    assertThat(upstream.count("GET", "/blobs/")).isZero();
  }

  @Test
  void whenTheUpstreamCannotTellCachedContentIsNotServedThroughAnUnlinkedRepository()
      throws Exception {
    startProxy("none");
    pull("secret/b", ADMIN);
    upstream.setDown(true);
    HttpResponse<byte[]> blob =
        harness.get("/v2/fake/team/a/blobs/" + secret.layers().get(1), "Authorization", ALICE);
    assertThat(blob.statusCode()).isEqualTo(503);
    assertThat(code(blob)).isEqualTo("UNAVAILABLE");
    // what was fetched through a repository stays served through it while the upstream is down
    assertThat(
            harness
                .get("/v2/fake/secret/b/blobs/" + secret.layers().get(1), "Authorization", ADMIN)
                .statusCode())
        .isEqualTo(200);
  }

  @Test
  void aConvertedLayerOfAPrivateRepositoryIsNotServedThroughAnotherRepository() throws Exception {
    startProxy("zstd");
    List<String> converted = pull("secret/b", ADMIN);
    Digest convertedManifest = Digest.parse(converted.get(0));
    Digest convertedConfig = Digest.parse(converted.get(1));
    Digest convertedPrivateLayer = Digest.parse(converted.get(3));
    assertThat(convertedPrivateLayer).isNotEqualTo(secret.layers().get(1));
    HttpResponse<byte[]> layerType =
        harness.get(
            "/v2/fake/secret/b/manifests/" + convertedManifest,
            "Authorization",
            ADMIN,
            "Accept",
            ACCEPT_ALL);
    assertThat(layerType.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(layerType.body()).path("layers").path(1).path("mediaType").asText())
        .isEqualTo(MediaTypes.OCI_LAYER_ZSTD);

    for (Digest digest : List.of(convertedPrivateLayer, convertedConfig)) {
      HttpResponse<byte[]> blob =
          harness.get("/v2/fake/team/a/blobs/" + digest, "Authorization", ALICE);
      assertThat(blob.statusCode()).as("converted blob %s", digest).isEqualTo(404);
      assertThat(code(blob)).isEqualTo("BLOB_UNKNOWN");
    }
    HttpResponse<byte[]> manifest =
        harness.get(
            "/v2/fake/team/a/manifests/" + convertedManifest,
            "Authorization",
            ALICE,
            "Accept",
            ACCEPT_ALL);
    assertThat(manifest.statusCode()).isEqualTo(404);
    assertThat(code(manifest)).isEqualTo("MANIFEST_UNKNOWN");

    // lost by the store, it is not regenerated for her, only for a repository it belongs to
    Path stored =
        dir.resolve(
            "data/blobs/sha256/"
                + convertedPrivateLayer.encoded().substring(0, 2)
                + "/"
                + convertedPrivateLayer.encoded());
    assertThat(stored).exists();
    java.nio.file.Files.delete(stored);
    HttpResponse<byte[]> lost =
        harness.get("/v2/fake/team/a/blobs/" + convertedPrivateLayer, "Authorization", ALICE);
    assertThat(lost.statusCode()).isEqualTo(404);
    assertThat(stored).doesNotExist();
    HttpResponse<byte[]> regenerated =
        harness.get("/v2/fake/secret/b/blobs/" + convertedPrivateLayer, "Authorization", ADMIN);
    assertThat(regenerated.statusCode()).isEqualTo(200);
    assertThat(Digest.sha256(regenerated.body())).isEqualTo(convertedPrivateLayer);

    // the converted form of the layer both images share is hers too
    List<String> pulled = pull("team/a", ALICE);
    assertThat(pulled.get(2)).isEqualTo(converted.get(2));
  }
}
