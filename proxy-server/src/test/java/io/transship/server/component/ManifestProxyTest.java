package io.transship.server.component;

import static org.assertj.core.api.Assertions.assertThat;

import io.transship.oci.Digest;
import io.transship.oci.MediaTypes;
import io.transship.server.testing.FakeUpstream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Manifest, tag, auth and error behaviour against a fault-injecting in-process upstream. */
class ManifestProxyTest {
  // deliberately unusual whitespace: the proxy must serve these exact bytes
  static final byte[] MANIFEST =
      ("{\n  \"schemaVersion\": 2,\n  \"mediaType\": \""
              + MediaTypes.OCI_MANIFEST
              + "\",\n"
              + "  \"config\": {\"mediaType\": \"application/vnd.oci.image.config.v1+json\","
              + " \"digest\": \"sha256:"
              + "a".repeat(64)
              + "\", \"size\": 2},\n"
              + "  \"layers\": []\n}\n")
          .getBytes(StandardCharsets.UTF_8);

  @TempDir Path root;
  FakeUpstream upstream;
  ProxyHarness harness;
  Digest digest;

  @BeforeEach
  void start() throws Exception {
    upstream = FakeUpstream.start();
    digest = upstream.putManifest("team/app", "v1", MANIFEST, MediaTypes.OCI_MANIFEST);
  }

  @AfterEach
  void stop() throws IOException {
    if (harness != null) {
      harness.close();
    }
    upstream.close();
  }

  private void startProxy(Duration tagTtl) throws Exception {
    harness = ProxyHarness.start(upstream, root, tagTtl);
  }

  @Test
  void manifestsAreServedAsTheExactUpstreamBytesWithTheirHeaders() throws Exception {
    startProxy(Duration.ofMinutes(1));
    HttpResponse<byte[]> byTag = harness.get("/v2/fake/team/app/manifests/v1");
    assertThat(byTag.statusCode()).isEqualTo(200);
    assertThat(byTag.body()).isEqualTo(MANIFEST);
    assertThat(byTag.headers().firstValue("Content-Type")).hasValue(MediaTypes.OCI_MANIFEST);
    assertThat(byTag.headers().firstValue("Docker-Content-Digest")).hasValue(digest.toString());
    assertThat(byTag.headers().firstValue("ETag")).hasValue("\"" + digest + "\"");
    assertThat(byTag.headers().firstValue("Docker-Distribution-API-Version"))
        .hasValue("registry/2.0");
  }

  @Test
  void headByTagAndGetByDigestAgree() throws Exception {
    startProxy(Duration.ofMinutes(1));
    HttpResponse<byte[]> head = harness.head("/v2/fake/team/app/manifests/v1");
    String reported = head.headers().firstValue("Docker-Content-Digest").orElseThrow();
    HttpResponse<byte[]> get = harness.get("/v2/fake/team/app/manifests/" + reported);
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
    assertThat(head.headers().firstValueAsLong("Content-Length")).hasValue(MANIFEST.length);
    assertThat(get.body()).isEqualTo(MANIFEST);
    assertThat(Digest.sha256(get.body()).toString()).isEqualTo(reported);
    assertThat(get.headers().firstValue("Content-Type"))
        .isEqualTo(head.headers().firstValue("Content-Type"));
  }

  @Test
  void aFreshTagIsAnsweredFromCacheWithoutAskingUpstream() throws Exception {
    startProxy(Duration.ofMinutes(1));
    harness.get("/v2/fake/team/app/manifests/v1");
    upstream.resetCounts();
    assertThat(harness.get("/v2/fake/team/app/manifests/v1").body()).isEqualTo(MANIFEST);
    assertThat(upstream.requests()).isEmpty();
  }

  @Test
  void anExpiredTagIsRevalidatedWithAHeadNotAGet() throws Exception {
    startProxy(Duration.ZERO);
    harness.get("/v2/fake/team/app/manifests/v1");
    upstream.resetCounts();
    assertThat(harness.get("/v2/fake/team/app/manifests/v1").body()).isEqualTo(MANIFEST);
    assertThat(upstream.count("HEAD", "/manifests/v1")).isEqualTo(1);
    assertThat(upstream.count("GET", "/manifests/")).isZero();
  }

  @Test
  void aMovedTagIsFetchedAgain() throws Exception {
    startProxy(Duration.ZERO);
    harness.get("/v2/fake/team/app/manifests/v1");
    byte[] moved = new String(MANIFEST, StandardCharsets.UTF_8).replace("[]", "[ ]").getBytes();
    Digest next = upstream.putManifest("team/app", "v1", moved, MediaTypes.OCI_MANIFEST);
    HttpResponse<byte[]> response = harness.get("/v2/fake/team/app/manifests/v1");
    assertThat(response.body()).isEqualTo(moved);
    assertThat(response.headers().firstValue("Docker-Content-Digest")).hasValue(next.toString());
  }

  @Test
  void aCachedTagIsServedStaleWhenTheUpstreamIsDown() throws Exception {
    startProxy(Duration.ZERO);
    harness.get("/v2/fake/team/app/manifests/v1");
    upstream.setDown(true);
    HttpResponse<byte[]> stale = harness.get("/v2/fake/team/app/manifests/v1");
    assertThat(stale.statusCode()).isEqualTo(200);
    assertThat(stale.body()).isEqualTo(MANIFEST);
    HttpResponse<byte[]> uncached = harness.get("/v2/fake/team/app/manifests/other");
    assertThat(uncached.statusCode()).isEqualTo(503);
    assertThat(new String(uncached.body())).contains("\"UNAVAILABLE\"");
    assertThat(harness.admin("/metrics")).contains("result=\"stale\"");
  }

  @Test
  void aCachedTagSurvivesARestartWhileTheUpstreamIsDown() throws Exception {
    startProxy(Duration.ZERO);
    harness.get("/v2/fake/team/app/manifests/v1");
    harness.close();
    upstream.setDown(true);
    startProxy(Duration.ZERO);
    assertThat(harness.get("/v2/fake/team/app/manifests/v1").body()).isEqualTo(MANIFEST);
  }

  @Test
  void manifestsByDigestAreCachedForGood() throws Exception {
    startProxy(Duration.ZERO);
    harness.get("/v2/fake/team/app/manifests/" + digest);
    upstream.setDown(true);
    assertThat(harness.get("/v2/fake/team/app/manifests/" + digest).body()).isEqualTo(MANIFEST);
  }

  @Test
  void rateLimitingAndServerErrorsAreRetried() throws Exception {
    startProxy(Duration.ZERO);
    upstream.failWith("/manifests/v1", 429, 1, Map.of("Retry-After", "0"));
    upstream.failWith("/manifests/v1", 503, 1, Map.of());
    HttpResponse<byte[]> response = harness.get("/v2/fake/team/app/manifests/v1");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(upstream.count("GET", "/manifests/v1")).isEqualTo(3);
  }

  @Test
  void persistentRateLimitingIsReportedWithRetryAfter() throws Exception {
    startProxy(Duration.ZERO);
    upstream.failWith("/manifests/v1", 429, 5, Map.of("Retry-After", "0"));
    HttpResponse<byte[]> response = harness.get("/v2/fake/team/app/manifests/v1");
    assertThat(response.statusCode()).isEqualTo(429);
    assertThat(new String(response.body())).contains("\"TOOMANYREQUESTS\"");
    assertThat(response.headers().firstValue("Retry-After")).hasValue("0");
  }

  @Test
  void bearerTokensAreFetchedOnceAndReusedPerScope() throws Exception {
    upstream.requireBearer("/token", "fake-registry", "secret-token", Duration.ofMinutes(5));
    startProxy(Duration.ZERO);
    assertThat(harness.get("/v2/fake/team/app/manifests/v1").statusCode()).isEqualTo(200);
    assertThat(harness.get("/v2/fake/team/app/manifests/v1").statusCode()).isEqualTo(200);
    assertThat(upstream.tokenRequests()).isEqualTo(1);
    assertThat(upstream.requests())
        .filteredOn(r -> r.path().contains("/token"))
        .allSatisfy(r -> assertThat(r.query()).contains("scope=repository%3Ateam%2Fapp%3Apull"));
  }

  @Test
  void basicCredentialsAreSentUpstreamButNotToARedirectTarget() throws Exception {
    try (FakeUpstream cdn = FakeUpstream.start()) {
      byte[] blob = "layer bytes".getBytes(StandardCharsets.UTF_8);
      Digest blobDigest = upstream.putBlob(blob);
      cdn.putBlob(blob);
      upstream.requireBasic("robot", "s3cret");
      upstream.redirectBlobsTo(cdn);
      harness = ProxyHarness.start(upstream, root, Duration.ZERO, "robot", "s3cret");
      assertThat(harness.get("/v2/fake/team/app/manifests/v1").statusCode()).isEqualTo(200);
      HttpResponse<byte[]> response = harness.get("/v2/fake/team/app/blobs/" + blobDigest);
      assertThat(response.body()).isEqualTo(blob);
      assertThat(cdn.requests()).isNotEmpty();
      assertThat(cdn.requests()).allSatisfy(r -> assertThat(r.header("Authorization")).isNull());
    }
  }

  @Test
  void deniedUpstreamCredentialsBecomeDenied() throws Exception {
    upstream.requireBasic("robot", "s3cret");
    harness = ProxyHarness.start(upstream, root, Duration.ZERO, "robot", "wrong");
    HttpResponse<byte[]> response = harness.get("/v2/fake/team/app/manifests/v1");
    assertThat(response.statusCode()).isEqualTo(403);
    assertThat(new String(response.body())).contains("\"DENIED\"");
  }

  @Test
  void specErrorsAreOciJson() throws Exception {
    startProxy(Duration.ZERO);
    assertError(
        harness.get("/v2/fake/team/app/manifests/sha256:totallywrong"), 400, "DIGEST_INVALID");
    assertError(harness.get("/v2/fake/team/app/manifests/nope"), 404, "MANIFEST_UNKNOWN");
    assertError(harness.get("/v2/fake/Team/app/manifests/v1"), 400, "NAME_INVALID");
    assertError(harness.send("PUT", "/v2/fake/team/app/manifests/v1"), 405, "UNSUPPORTED");
    assertError(harness.send("DELETE", "/v2/fake/team/app/blobs/" + digest), 405, "UNSUPPORTED");
    assertError(harness.send("POST", "/v2/fake/team/app/blobs/uploads/"), 405, "UNSUPPORTED");
  }

  @Test
  void unconfiguredRegistryHostsAreRefused() throws Exception {
    startProxy(Duration.ZERO);
    assertError(harness.get("/v2/team/app/manifests/v1?ns=evil.example.com"), 403, "DENIED");
    HttpResponse<byte[]> byNs = harness.get("/v2/team/app/manifests/v1?ns=" + upstream.hostPort());
    assertThat(byNs.body()).isEqualTo(MANIFEST);
    HttpResponse<byte[]> byDefault = harness.get("/v2/team/app/manifests/v1");
    assertThat(byDefault.body()).isEqualTo(MANIFEST);
  }

  @Test
  void tagListsHonourPagingAndPointLinksAtTheProxy() throws Exception {
    upstream.setTags("team/app", List.of("a", "b", "c", "d"));
    startProxy(Duration.ZERO);
    HttpResponse<byte[]> page = harness.get("/v2/fake/team/app/tags/list?n=2");
    assertThat(new String(page.body()))
        .contains("\"name\":\"fake/team/app\"")
        .contains("[\"a\",\"b\"]");
    assertThat(page.headers().firstValue("Link").orElseThrow())
        .startsWith("</v2/fake/team/app/tags/list?")
        .contains("last=b");
    HttpResponse<byte[]> next = harness.get("/v2/fake/team/app/tags/list?n=2&last=b");
    assertThat(new String(next.body())).contains("[\"c\",\"d\"]");
  }

  @Test
  void referrersArePassedThrough() throws Exception {
    startProxy(Duration.ZERO);
    HttpResponse<byte[]> response = harness.get("/v2/fake/team/app/referrers/" + digest);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValue(MediaTypes.OCI_INDEX);
    assertThat(new String(response.body())).contains("\"manifests\"");
  }

  @Test
  void adminPortReportsHealthReadinessAndMetrics() throws Exception {
    startProxy(Duration.ZERO);
    harness.get("/v2/fake/team/app/manifests/v1");
    assertThat(harness.admin("/healthz")).isEqualTo("ok\n");
    assertThat(harness.admin("/readyz")).isEqualTo("ready\n");
    assertThat(harness.admin("/metrics"))
        .contains(
            "transship_requests_seconds_count{method=\"GET\",route=\"manifest\",status=\"200\"}")
        .contains("transship_upstream_requests_seconds_count")
        .contains("transship_cache_lookups_total");
  }

  private static void assertError(HttpResponse<byte[]> response, int status, String code) {
    assertThat(response.statusCode()).isEqualTo(status);
    assertThat(response.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(new String(response.body())).contains("\"code\":\"" + code + "\"");
  }
}
