package io.transship.server.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.transship.oci.Digest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FakeUpstreamTest {

  private static final String MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private FakeUpstream upstream;
  private HttpClient client;

  @BeforeEach
  void setUp() {
    upstream = FakeUpstream.start();
    client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  @AfterEach
  void tearDown() {
    client.close();
    upstream.close();
  }

  @Test
  void baseEndpointAnnouncesTheApiVersion() throws Exception {
    HttpResponse<String> response = get("/v2/");

    assertThat(upstream.url()).isEqualTo("http://" + upstream.hostPort());
    assertThat(upstream.hostPort()).startsWith("127.0.0.1:");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Docker-Distribution-API-Version"))
        .hasValue("registry/2.0");
  }

  @Test
  void servesManifestsByTagAndDigestWithTheirHeaders() throws Exception {
    byte[] manifest = utf8("{\"schemaVersion\":2}");
    Digest digest = upstream.putManifest("team/sub/app", "v1", manifest, MANIFEST_TYPE);

    HttpResponse<byte[]> byTag = getBytes("/v2/team/sub/app/manifests/v1", Map.of());
    HttpResponse<String> byDigest = head("/v2/team/sub/app/manifests/" + digest);

    assertThat(digest).isEqualTo(Digest.sha256(manifest));
    assertThat(byTag.statusCode()).isEqualTo(200);
    assertThat(byTag.body()).isEqualTo(manifest);
    assertThat(byTag.headers().firstValue("Content-Type")).hasValue(MANIFEST_TYPE);
    assertThat(byTag.headers().firstValue("Docker-Content-Digest")).hasValue(digest.toString());
    assertThat(byTag.headers().firstValueAsLong("Content-Length")).hasValue(manifest.length);
    assertThat(byDigest.statusCode()).isEqualTo(200);
    assertThat(byDigest.body()).isEmpty();
    assertThat(byDigest.headers().firstValueAsLong("Content-Length")).hasValue(manifest.length);
    assertThat(byDigest.headers().firstValue("Docker-Content-Digest")).hasValue(digest.toString());
  }

  @Test
  void missingManifestsAndRemovedTagsAnswerManifestUnknown() throws Exception {
    Digest digest = upstream.putManifest("app", "v1", utf8("{}"), MANIFEST_TYPE);
    upstream.putTag("app", "latest", digest);
    upstream.removeTag("app", "v1");

    HttpResponse<String> removed = get("/v2/app/manifests/v1");

    assertThat(removed.statusCode()).isEqualTo(404);
    assertThat(errorCode(removed)).isEqualTo("MANIFEST_UNKNOWN");
    assertThat(get("/v2/app/manifests/latest").statusCode()).isEqualTo(200);
    assertThat(get("/v2/app/manifests/" + digest).statusCode()).isEqualTo(200);
    assertThat(get("/v2/other/manifests/latest").statusCode()).isEqualTo(404);
    assertThat(head("/v2/app/manifests/nope").statusCode()).isEqualTo(404);
  }

  @Test
  void servesBlobsWholeAndByRange() throws Exception {
    byte[] content = utf8("0123456789");
    Digest digest = upstream.putBlob(content);
    String path = "/v2/library/alpine/blobs/" + digest;

    HttpResponse<byte[]> whole = getBytes(path, Map.of());
    HttpResponse<byte[]> range = getBytes(path, Map.of("Range", "bytes=2-5"));
    HttpResponse<byte[]> suffix = getBytes(path, Map.of("Range", "bytes=-3"));
    HttpResponse<byte[]> beyond = getBytes(path, Map.of("Range", "bytes=10-"));
    HttpResponse<String> headResponse = head(path);

    assertThat(whole.statusCode()).isEqualTo(200);
    assertThat(whole.body()).isEqualTo(content);
    assertThat(whole.headers().firstValue("Docker-Content-Digest")).hasValue(digest.toString());
    assertThat(range.statusCode()).isEqualTo(206);
    assertThat(new String(range.body(), StandardCharsets.UTF_8)).isEqualTo("2345");
    assertThat(range.headers().firstValue("Content-Range")).hasValue("bytes 2-5/10");
    assertThat(range.headers().firstValueAsLong("Content-Length")).hasValue(4);
    assertThat(new String(suffix.body(), StandardCharsets.UTF_8)).isEqualTo("789");
    assertThat(beyond.statusCode()).isEqualTo(416);
    assertThat(headResponse.statusCode()).isEqualTo(200);
    assertThat(headResponse.headers().firstValueAsLong("Content-Length")).hasValue(10);
    HttpResponse<String> unknown = get("/v2/library/alpine/blobs/" + Digest.sha256(utf8("x")));
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(errorCode(unknown)).isEqualTo("BLOB_UNKNOWN");
  }

  @Test
  void countsAndRecordsRequests() throws Exception {
    Digest digest = upstream.putBlob(utf8("blob"));
    String path = "/v2/app/blobs/" + digest;

    getBytes(path, Map.of("X-Probe", "one"));
    getBytes(path + "?via=test", Map.of());
    head(path);

    assertThat(upstream.count("GET", "/blobs/" + digest)).isEqualTo(2);
    assertThat(upstream.count("head", "/blobs/")).isEqualTo(1);
    assertThat(upstream.count(null, digest.toString())).isEqualTo(3);
    List<FakeUpstream.RecordedRequest> requests = upstream.requests();
    assertThat(requests)
        .extracting(FakeUpstream.RecordedRequest::method)
        .containsExactly("GET", "GET", "HEAD");
    assertThat(requests.get(0).header("x-probe")).isEqualTo("one");
    assertThat(requests.get(0).query()).isEmpty();
    assertThat(requests.get(1).query()).isEqualTo("via=test");
    assertThat(requests.get(1).path()).isEqualTo(path);

    upstream.resetCounts();

    assertThat(upstream.count("GET", "/blobs/")).isZero();
    assertThat(upstream.requests()).isEmpty();
  }

  @Test
  void pagesTagLists() throws Exception {
    for (String tag : List.of("c", "a", "b")) {
      upstream.putManifest("org/app", tag, utf8("{\"t\":\"" + tag + "\"}"), MANIFEST_TYPE);
    }

    HttpResponse<String> first = get("/v2/org/app/tags/list?n=2");
    HttpResponse<String> second = get("/v2/org/app/tags/list?n=2&last=b");

    assertThat(tags(first)).containsExactly("a", "b");
    assertThat(JSON.readTree(first.body()).get("name").asText()).isEqualTo("org/app");
    assertThat(first.headers().firstValue("Link"))
        .hasValue("</v2/org/app/tags/list?n=2&last=b>; rel=\"next\"");
    assertThat(tags(second)).containsExactly("c");
    assertThat(second.headers().firstValue("Link")).isEmpty();
    assertThat(tags(get("/v2/org/app/tags/list"))).containsExactly("a", "b", "c");
    assertThat(get("/v2/nobody/tags/list").statusCode()).isEqualTo(404);

    upstream.setTags("org/app", List.of("z", "y"));

    assertThat(tags(get("/v2/org/app/tags/list"))).containsExactly("z", "y");
  }

  @Test
  void servesAnEmptyReferrersIndexUnlessTurnedOff() throws Exception {
    String path = "/v2/app/referrers/" + Digest.sha256(utf8("subject"));

    HttpResponse<String> supported = get(path);
    upstream.setReferrersSupported(false);
    HttpResponse<String> unsupported = get(path);

    assertThat(supported.statusCode()).isEqualTo(200);
    assertThat(supported.headers().firstValue("Content-Type"))
        .hasValue("application/vnd.oci.image.index.v1+json");
    assertThat(JSON.readTree(supported.body()).get("manifests").size()).isZero();
    assertThat(unsupported.statusCode()).isEqualTo(404);
  }

  @Test
  void failsWith429ThenServesNormally() throws Exception {
    upstream.putManifest("app", "v1", utf8("{}"), MANIFEST_TYPE);
    upstream.failWith("/manifests/", 429, 1, Map.of("Retry-After", "1"));

    HttpResponse<String> limited = get("/v2/app/manifests/v1");
    HttpResponse<String> normal = get("/v2/app/manifests/v1");

    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(limited.headers().firstValue("Retry-After")).hasValue("1");
    assertThat(errorCode(limited)).isEqualTo("TOOMANYREQUESTS");
    assertThat(normal.statusCode()).isEqualTo(200);
    assertThat(upstream.count("GET", "/manifests/v1")).isEqualTo(2);
  }

  @Test
  void resetMidBodyMakesTheClientFailThenServesNormally() throws Exception {
    byte[] content = new byte[256 * 1024];
    Arrays.fill(content, (byte) 7);
    Digest digest = upstream.putBlob(content);
    String path = "/v2/app/blobs/" + digest;
    upstream.resetMidBody("/blobs/", 1);

    HttpResponse<String> head = head(path);

    assertThat(head.statusCode()).isEqualTo(200); // HEAD uses no time up
    assertThatThrownBy(() -> getBytes(path, Map.of())).isInstanceOf(IOException.class);
    assertThat(getBytes(path, Map.of()).body()).isEqualTo(content);
  }

  @Test
  void corruptBodyKeepsTheLengthButNotTheDigest() throws Exception {
    byte[] content = utf8("some layer bytes");
    Digest digest = upstream.putBlob(content);
    String path = "/v2/app/blobs/" + digest;
    upstream.corruptBody("/blobs/", 1);

    HttpResponse<byte[]> corrupted = getBytes(path, Map.of());

    assertThat(corrupted.statusCode()).isEqualTo(200);
    assertThat(corrupted.body()).hasSameSizeAs(content);
    assertThat(Digest.sha256(corrupted.body())).isNotEqualTo(digest);
    assertThat(getBytes(path, Map.of()).body()).isEqualTo(content);
  }

  @Test
  void aDelayedRequestDoesNotBlockOthers() throws Exception {
    Digest digest = upstream.putBlob(utf8("slow"));
    upstream.delayMillis("/blobs/", 3_000);

    CompletableFuture<HttpResponse<byte[]>> slow =
        client.sendAsync(
            request("/v2/app/blobs/" + digest).build(), HttpResponse.BodyHandlers.ofByteArray());
    long started = System.nanoTime();
    HttpResponse<String> fast = get("/v2/");
    long fastMillis = (System.nanoTime() - started) / 1_000_000;

    assertThat(fast.statusCode()).isEqualTo(200);
    assertThat(fastMillis).isLessThan(2_000);
    assertThat(slow).isNotDone();
    upstream.delayMillis("/blobs/", 0);
    assertThat(slow.get().statusCode()).isEqualTo(200);
  }

  @Test
  void bearerFlowChallengesIssuesATokenAndAcceptsIt() throws Exception {
    upstream.putManifest("library/alpine", "3", utf8("{}"), MANIFEST_TYPE);
    upstream.requireBearer("/token", "fake-registry", "s3cret", Duration.ofMinutes(5));
    String path = "/v2/library/alpine/manifests/3";

    HttpResponse<String> challenged = get(path);
    HttpResponse<String> base = get("/v2/");
    HttpResponse<String> token =
        get("/token?service=fake-registry&scope=repository:library/alpine:pull");
    JsonNode tokenJson = JSON.readTree(token.body());
    HttpResponse<byte[]> authorized =
        getBytes(path, Map.of("Authorization", "Bearer " + tokenJson.get("token").asText()));

    assertThat(challenged.statusCode()).isEqualTo(401);
    assertThat(errorCode(challenged)).isEqualTo("UNAUTHORIZED");
    assertThat(challenged.headers().firstValue("WWW-Authenticate"))
        .hasValue(
            "Bearer realm=\""
                + upstream.url()
                + "/token\",service=\"fake-registry\",scope=\"repository:library/alpine:pull\"");
    assertThat(base.statusCode()).isEqualTo(401);
    assertThat(base.headers().firstValue("WWW-Authenticate"))
        .hasValue("Bearer realm=\"" + upstream.url() + "/token\",service=\"fake-registry\"");
    assertThat(token.statusCode()).isEqualTo(200);
    assertThat(tokenJson.get("token").asText()).isEqualTo("s3cret");
    assertThat(tokenJson.get("expires_in").asLong()).isEqualTo(300);
    assertThat(authorized.statusCode()).isEqualTo(200);
    assertThat(upstream.tokenRequests()).isEqualTo(1);
    assertThat(upstream.count("GET", "/token")).isEqualTo(1);
    assertThat(upstream.requests().get(2).query()).contains("scope=repository:library/alpine:pull");
  }

  @Test
  void basicAuthRequiresTheRightCredentials() throws Exception {
    upstream.requireBasic("alice", "pw");
    String good = "Basic " + Base64.getEncoder().encodeToString(utf8("alice:pw"));
    String bad = "Basic " + Base64.getEncoder().encodeToString(utf8("alice:no"));

    HttpResponse<String> none = get("/v2/");

    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Basic realm=\"fake\"");
    assertThat(getBytes("/v2/", Map.of("Authorization", bad)).statusCode()).isEqualTo(401);
    assertThat(getBytes("/v2/", Map.of("Authorization", good)).statusCode()).isEqualTo(200);

    upstream.clearAuth();

    assertThat(get("/v2/").statusCode()).isEqualTo(200);
  }

  @Test
  void redirectsBlobsToAnotherHostThatRecordsHeaders() throws Exception {
    try (FakeUpstream storage = FakeUpstream.start()) {
      byte[] content = utf8("layer");
      Digest digest = upstream.putBlob(content);
      storage.putBlob(content);
      upstream.requireBearer("/token", "svc", "tok", null);
      upstream.redirectBlobsTo(storage);
      String path = "/v2/app/blobs/" + digest;

      HttpResponse<byte[]> redirect = getBytes(path, Map.of("Authorization", "Bearer tok"));
      String location = redirect.headers().firstValue("Location").orElseThrow();
      HttpResponse<byte[]> followed =
          client.send(
              HttpRequest.newBuilder(URI.create(location)).build(),
              HttpResponse.BodyHandlers.ofByteArray());

      assertThat(redirect.statusCode()).isEqualTo(307);
      assertThat(location).isEqualTo(storage.url() + path);
      assertThat(followed.body()).isEqualTo(content);
      assertThat(storage.requests())
          .singleElement()
          .satisfies(r -> assertThat(r.header("Authorization")).isNull());
      assertThat(head(path).statusCode()).isEqualTo(401); // HEAD not redirected, still guarded
    }
  }

  @Test
  void goesDownAndComesBackOnTheSamePort() throws Exception {
    String url = upstream.url();
    assertThat(get("/v2/").statusCode()).isEqualTo(200);

    upstream.setDown(true);

    assertThat(upstream.isDown()).isTrue();
    assertThatThrownBy(() -> get("/v2/")).isInstanceOf(IOException.class);

    upstream.setDown(false);

    assertThat(upstream.url()).isEqualTo(url);
    assertThat(get("/v2/").statusCode()).isEqualTo(200);
    assertThat(upstream.count("GET", "/v2/")).isEqualTo(2);
  }

  // ---------------------------------------------------------------- helpers

  private HttpRequest.Builder request(String pathAndQuery) {
    return HttpRequest.newBuilder(URI.create(upstream.url() + pathAndQuery))
        .timeout(Duration.ofSeconds(10));
  }

  private HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
    return client.send(request(pathAndQuery).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> head(String path) throws IOException, InterruptedException {
    return client.send(
        request(path).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<byte[]> getBytes(String pathAndQuery, Map<String, String> headers)
      throws IOException, InterruptedException {
    HttpRequest.Builder builder = request(pathAndQuery);
    headers.forEach(builder::header);
    return client.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  private static List<String> tags(HttpResponse<String> response) throws IOException {
    assertThat(response.statusCode()).isEqualTo(200);
    return JSON.readerForListOf(String.class).readValue(JSON.readTree(response.body()).get("tags"));
  }

  private static String errorCode(HttpResponse<String> response) throws IOException {
    return JSON.readTree(response.body()).get("errors").get(0).get("code").asText();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
