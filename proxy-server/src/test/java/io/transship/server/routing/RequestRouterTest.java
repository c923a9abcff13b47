package io.transship.server.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.transship.oci.Digest;
import io.transship.oci.ErrorCode;
import io.transship.oci.Reference;
import io.transship.oci.RegistryException;
import io.transship.oci.RepositoryName;
import io.transship.server.config.UpstreamConfig;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RequestRouterTest {

  private static final String HEX =
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  private static final Digest DIGEST = new Digest("sha256", HEX);

  private static final UpstreamConfig DOCKER =
      upstream(
          "docker.io",
          "https://registry-1.docker.io",
          List.of("docker.io", "registry-1.docker.io", "index.docker.io"),
          true);
  private static final UpstreamConfig LAB =
      upstream("lab", "http://127.0.0.1:5000", List.of("lab", "127.0.0.1:5000"), false);
  private static final UpstreamConfig GHCR =
      upstream("ghcr.io", "https://ghcr.io", List.of("ghcr.io"), false);

  private static final Map<String, UpstreamConfig> UPSTREAMS =
      Map.of("docker.io", DOCKER, "lab", LAB, "ghcr.io", GHCR);

  private final RequestRouter router = new RequestRouter(UPSTREAMS, "docker.io");

  private static UpstreamConfig upstream(
      String alias, String url, List<String> hosts, boolean libraryPrefix) {
    return new UpstreamConfig(
        alias,
        URI.create(url),
        hosts,
        libraryPrefix,
        null,
        null,
        false,
        null,
        Duration.ofSeconds(10),
        Duration.ofSeconds(60),
        Duration.ofSeconds(60),
        3,
        "none");
  }

  private static final Function<String, String> NO_HEADERS = name -> null;

  private RegistryRequest get(String path) {
    return router.route("GET", path, Map.of(), NO_HEADERS);
  }

  private RegistryRequest get(String path, Map<String, List<String>> query) {
    return router.route("GET", path, query, NO_HEADERS);
  }

  private static RegistryException failure(Runnable call) {
    Throwable thrown = catchThrowable(call::run);
    assertThat(thrown).isInstanceOf(RegistryException.class);
    return (RegistryException) thrown;
  }

  @ParameterizedTest
  @ValueSource(strings = {"/v2/", "/v2"})
  void baseEndpointIsRecognised(String path) {
    assertThat(get(path)).isInstanceOf(RegistryRequest.Base.class);
    assertThat(router.route("HEAD", path, Map.of(), NO_HEADERS))
        .isInstanceOf(RegistryRequest.Base.class);
  }

  @Test
  void aliasPrefixSelectsDockerHubAndAddsTheLibraryPrefix() {
    RegistryRequest request = get("/v2/docker.io/alpine/manifests/3.20");

    assertThat(request).isInstanceOf(RegistryRequest.Manifest.class);
    RegistryRequest.Manifest manifest = (RegistryRequest.Manifest) request;
    assertThat(manifest.route().upstream()).isSameAs(DOCKER);
    assertThat(manifest.route().repository()).isEqualTo(new RepositoryName("library/alpine"));
    assertThat(manifest.route().clientName()).isEqualTo("docker.io/alpine");
    assertThat(manifest.route().describe()).isEqualTo("docker.io/library/alpine");
    assertThat(manifest.reference()).isEqualTo(new Reference.Tag("3.20"));
    assertThat(manifest.head()).isFalse();
  }

  @Test
  void aliasPrefixKeepsAnAlreadyQualifiedDockerHubName() {
    RegistryRequest.Manifest manifest =
        (RegistryRequest.Manifest) get("/v2/docker.io/bitnami/redis/manifests/7");

    assertThat(manifest.route().repository()).isEqualTo(new RepositoryName("bitnami/redis"));
  }

  @Test
  void headManifestCarriesTheClientHeaders() {
    Map<String, String> headers =
        Map.of("Accept", "application/vnd.oci.image.index.v1+json", "User-Agent", "containerd/2");

    RegistryRequest request =
        router.route("HEAD", "/v2/lab/app/manifests/latest", Map.of(), headers::get);

    RegistryRequest.Manifest manifest = (RegistryRequest.Manifest) request;
    assertThat(manifest.head()).isTrue();
    assertThat(manifest.client())
        .isEqualTo(
            new RegistryRequest.ClientInfo(
                "application/vnd.oci.image.index.v1+json", "containerd/2"));
    assertThat(manifest.route().upstream()).isSameAs(LAB);
    assertThat(manifest.route().repository()).isEqualTo(new RepositoryName("app"));
  }

  @Test
  void manifestByDigest() {
    RegistryRequest.Manifest manifest =
        (RegistryRequest.Manifest) get("/v2/lab/app/manifests/sha256:" + HEX);

    assertThat(manifest.reference()).isEqualTo(new Reference.ByDigest(DIGEST));
  }

  @Test
  void blobUnderAnAliasPrefixWithNestedName() {
    Map<String, String> headers = Map.of("Range", "bytes=0-99");

    RegistryRequest request =
        router.route("GET", "/v2/lab/group/app/blobs/sha256:" + HEX, Map.of(), headers::get);

    assertThat(request)
        .isEqualTo(
            new RegistryRequest.Blob(
                new Route(LAB, new RepositoryName("group/app"), "lab/group/app", null),
                DIGEST,
                false,
                "bytes=0-99"));
  }

  @Test
  void headBlobIsMarkedHead() {
    RegistryRequest.Blob blob =
        (RegistryRequest.Blob)
            router.route("HEAD", "/v2/lab/app/blobs/sha256:" + HEX, Map.of(), NO_HEADERS);

    assertThat(blob.head()).isTrue();
    assertThat(blob.range()).isNull();
  }

  @Test
  void nsQueryPicksTheUpstreamByHostAndKeepsTheFullName() {
    RegistryRequest.Manifest manifest =
        (RegistryRequest.Manifest)
            get("/v2/group/app/manifests/v1", Map.of("ns", List.of("127.0.0.1:5000")));

    assertThat(manifest.route().upstream()).isSameAs(LAB);
    assertThat(manifest.route().repository()).isEqualTo(new RepositoryName("group/app"));
    assertThat(manifest.route().clientName()).isEqualTo("group/app");
  }

  @Test
  void nsQueryWinsOverAnAliasLookingFirstSegment() {
    RegistryRequest.Manifest manifest =
        (RegistryRequest.Manifest)
            get("/v2/ghcr.io/app/manifests/v1", Map.of("ns", List.of("127.0.0.1:5000")));

    assertThat(manifest.route().upstream()).isSameAs(LAB);
    assertThat(manifest.route().repository()).isEqualTo(new RepositoryName("ghcr.io/app"));
  }

  @Test
  void nsQueryForDockerHubAddsTheLibraryPrefixAndIsCaseInsensitive() {
    RegistryRequest.Manifest manifest =
        (RegistryRequest.Manifest)
            get("/v2/alpine/manifests/latest", Map.of("ns", List.of("Registry-1.Docker.IO")));

    assertThat(manifest.route().upstream()).isSameAs(DOCKER);
    assertThat(manifest.route().repository()).isEqualTo(new RepositoryName("library/alpine"));
    assertThat(manifest.route().clientName()).isEqualTo("alpine");
  }

  @Test
  void unknownNsHostIsDenied() {
    RegistryException e =
        failure(() -> get("/v2/app/manifests/v1", Map.of("ns", List.of("evil.example:443"))));

    assertThat(e.code()).isEqualTo(ErrorCode.DENIED);
    assertThat(e.code().httpStatus()).isEqualTo(403);
    assertThat(e.detail()).isEqualTo("evil.example:443");
  }

  @Test
  void nameWithoutAnAliasPrefixGoesToTheDefaultUpstream() {
    RegistryRequest.Manifest manifest = (RegistryRequest.Manifest) get("/v2/alpine/manifests/3");

    assertThat(manifest.route().upstream()).isSameAs(DOCKER);
    assertThat(manifest.route().repository()).isEqualTo(new RepositoryName("library/alpine"));
    assertThat(manifest.route().clientName()).isEqualTo("alpine");
  }

  @Test
  void nestedNameWhoseFirstSegmentIsNotAnAliasGoesToTheDefaultUpstream() {
    RegistryRequest.Manifest manifest =
        (RegistryRequest.Manifest) get("/v2/bitnami/redis/manifests/7");

    assertThat(manifest.route().upstream()).isSameAs(DOCKER);
    assertThat(manifest.route().repository()).isEqualTo(new RepositoryName("bitnami/redis"));
  }

  @Test
  void manifestsSegmentInsideTheNameResolvesByTheLastOccurrence() {
    RegistryRequest.Manifest manifest =
        (RegistryRequest.Manifest) get("/v2/lab/a/manifests/b/manifests/latest");

    assertThat(manifest.route().repository()).isEqualTo(new RepositoryName("a/manifests/b"));
    assertThat(manifest.reference()).isEqualTo(new Reference.Tag("latest"));
  }

  @Test
  void blobsSegmentInsideAManifestNameDoesNotMakeItABlobRequest() {
    RegistryRequest.Manifest manifest =
        (RegistryRequest.Manifest) get("/v2/lab/a/blobs/b/manifests/latest");

    assertThat(manifest.route().repository()).isEqualTo(new RepositoryName("a/blobs/b"));
  }

  @Test
  void manifestsSegmentInsideABlobNameDoesNotMakeItAManifestRequest() {
    RegistryRequest.Blob blob =
        (RegistryRequest.Blob) get("/v2/lab/a/manifests/b/blobs/sha256:" + HEX);

    assertThat(blob.route().repository()).isEqualTo(new RepositoryName("a/manifests/b"));
    assertThat(blob.digest()).isEqualTo(DIGEST);
  }

  @Test
  void tagsListWithPagination() {
    RegistryRequest request =
        get("/v2/lab/app/tags/list", Map.of("n", List.of("2"), "last", List.of("b")));

    assertThat(request)
        .isEqualTo(
            new RegistryRequest.TagsList(
                new Route(LAB, new RepositoryName("app"), "lab/app", null), 2, "b"));
  }

  @Test
  void tagsListWithoutPagination() {
    RegistryRequest.TagsList tags =
        (RegistryRequest.TagsList) get("/v2/docker.io/alpine/tags/list");

    assertThat(tags.n()).isNull();
    assertThat(tags.last()).isNull();
    assertThat(tags.route().repository()).isEqualTo(new RepositoryName("library/alpine"));
  }

  @Test
  void tagsListOfARepositoryNamedLikeAnEndpoint() {
    RegistryRequest.TagsList tags = (RegistryRequest.TagsList) get("/v2/lab/a/manifests/tags/list");

    assertThat(tags.route().repository()).isEqualTo(new RepositoryName("a/manifests"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"abc", "-1", "1.5", "99999999999"})
  void invalidPageSizeIsAClientError(String n) {
    RegistryException e = failure(() -> get("/v2/lab/app/tags/list", Map.of("n", List.of(n))));

    assertThat(e.code().httpStatus()).isBetween(400, 499);
    assertThat(e.detail()).isEqualTo(n);
  }

  @Test
  void pageSizeZeroIsAccepted() {
    RegistryRequest.TagsList tags =
        (RegistryRequest.TagsList) get("/v2/lab/app/tags/list", Map.of("n", List.of("0")));

    assertThat(tags.n()).isZero();
  }

  @Test
  void referrersWithArtifactTypeFilter() {
    RegistryRequest request =
        get(
            "/v2/lab/app/referrers/sha256:" + HEX,
            Map.of("artifactType", List.of("application/vnd.example.sbom")));

    assertThat(request)
        .isEqualTo(
            new RegistryRequest.Referrers(
                new Route(LAB, new RepositoryName("app"), "lab/app", null),
                DIGEST,
                "application/vnd.example.sbom"));
    assertThat(request.routeName()).isEqualTo("referrers");
  }

  @Test
  void referrersWithoutFilter() {
    RegistryRequest.Referrers referrers =
        (RegistryRequest.Referrers) get("/v2/lab/app/referrers/sha256:" + HEX);

    assertThat(referrers.artifactType()).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"PUT", "POST", "DELETE", "PATCH", "OPTIONS"})
  void writeMethodsAreUnsupported(String method) {
    RegistryException e =
        failure(() ->
            router.route(method, "/v2/lab/app/manifests/latest", new HashMap<>(), NO_HEADERS));

    assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED);
    assertThat(e.code().httpStatus()).isEqualTo(405);
  }

  @Test
  void postToStartAnUploadIsUnsupported() {
    RegistryException e =
        failure(() -> router.route("POST", "/v2/lab/app/blobs/uploads/", Map.of(), NO_HEADERS));

    assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED);
  }

  @ParameterizedTest
  @ValueSource(strings = {"/v2/x/blobs/uploads/", "/v2/x/blobs/uploads/some-session-id"})
  void uploadPathsAreUnsupportedEvenForGet(String path) {
    RegistryException e = failure(() -> get(path));

    assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED);
    assertThat(e.code().httpStatus()).isEqualTo(405);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/v2/lab/app/blobs/sha256:abc",
        "/v2/lab/app/blobs/sha256:totallywrong",
        "/v2/lab/app/manifests/sha256:"
            + "A"
            + "0000000000000000000000000000000000000000000000000000000000000000",
        "/v2/lab/app/referrers/sha256:abc",
        "/v2/lab/app/referrers/latest"
      })
  void malformedDigestIsDigestInvalid(String path) {
    assertThat(failure(() -> get(path)).code()).isEqualTo(ErrorCode.DIGEST_INVALID);
  }

  @Test
  void invalidTagIsManifestUnknown() {
    assertThat(failure(() -> get("/v2/lab/app/manifests/-bad")).code())
        .isEqualTo(ErrorCode.MANIFEST_UNKNOWN);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/v2/lab/App/manifests/latest",
        "/v2/Alpine/manifests/latest",
        "/v2/lab/a//b/manifests/latest",
        "/v2/lab/app-/blobs/sha256:" + HEX,
        "/v2/docker.io/Alpine/tags/list"
      })
  void invalidRepositoryNameIsNameInvalid(String path) {
    RegistryException e = failure(() -> get(path));

    assertThat(e.code()).isEqualTo(ErrorCode.NAME_INVALID);
    assertThat(e.code().httpStatus()).isEqualTo(400);
  }

  @Test
  void withoutDefaultUpstreamAnUnprefixedNameIsNameUnknown() {
    RequestRouter strict = new RequestRouter(UPSTREAMS, "");

    RegistryException e =
        failure(() -> strict.route("GET", "/v2/library/alpine/manifests/3", Map.of(), NO_HEADERS));

    assertThat(e.code()).isEqualTo(ErrorCode.NAME_UNKNOWN);
    assertThat(e.getMessage()).contains("lab", "docker.io", "ghcr.io");
  }

  @Test
  void withoutDefaultUpstreamAPrefixedNameStillRoutes() {
    RequestRouter strict = new RequestRouter(UPSTREAMS, null);

    RegistryRequest.Manifest manifest =
        (RegistryRequest.Manifest)
            strict.route("GET", "/v2/ghcr.io/org/app/manifests/1", Map.of(), NO_HEADERS);

    assertThat(manifest.route().upstream()).isSameAs(GHCR);
    assertThat(manifest.route().repository()).isEqualTo(new RepositoryName("org/app"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"/v1/_ping", "/", "/v2/lab/app", "/v2/lab/app/other/thing"})
  void pathsThatAreNoRegistryEndpointAreNameUnknown(String path) {
    assertThat(failure(() -> get(path)).code()).isEqualTo(ErrorCode.NAME_UNKNOWN);
  }

  @Test
  void routeNamesIdentifyTheEndpoint() {
    assertThat(get("/v2/").routeName()).isEqualTo("base");
    assertThat(get("/v2/lab/app/manifests/1").routeName()).isEqualTo("manifest");
    assertThat(get("/v2/lab/app/blobs/sha256:" + HEX).routeName()).isEqualTo("blob");
    assertThat(get("/v2/lab/app/tags/list").routeName()).isEqualTo("tags");
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({
    // as pulled through the proxy: its own host:port is dropped
    "localhost:5555/lab/team/app, lab, team/app",
    "proxy.internal:5555/docker.io/library/alpine, docker.io, library/alpine",
    // a registry host of an upstream names that upstream
    "127.0.0.1:5000/team/app, lab, team/app",
    "index.docker.io/library/alpine, docker.io, library/alpine",
    // aliases and plain names as before
    "docker.io/library/alpine, docker.io, library/alpine",
    "lab/team/app, lab, team/app",
    "alpine, docker.io, library/alpine",
  })
  void imageNamesAreAcceptedAsTheUserPullsThem(String name, String alias, String repository) {
    Route route = router.routeImage(name);

    assertThat(route.upstream().alias()).isEqualTo(alias);
    assertThat(route.repository().toString()).isEqualTo(repository);
  }
}
