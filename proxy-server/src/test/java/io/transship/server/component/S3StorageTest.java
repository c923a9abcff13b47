package io.transship.server.component;

import static org.assertj.core.api.Assertions.assertThat;

import io.transship.oci.MediaTypes;
import io.transship.server.config.ConversionConfig;
import io.transship.server.config.TransshipConfig;
import io.transship.server.testing.FakeUpstream;
import io.transship.server.testing.TcpRelay;
import io.transship.storage.s3.S3ProxyServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * transship on S3 storage — a real S3-compatible server (S3Proxy, out of process), replicas sharing
 * one bucket, presigned redirects, and degradation to pass-through while S3 is unreachable.
 */
@ExtendWith(S3ProxyServer.Extension.class)
class S3StorageTest {
  static final String CONTAINERD = "containerd/1.7.24";
  static final String ACCEPT =
      String.join(",", MediaTypes.OCI_INDEX, MediaTypes.OCI_MANIFEST, MediaTypes.DOCKER_MANIFEST);

  @TempDir Path dir;
  FakeUpstream upstream;
  String prefix;
  final List<ProxyHarness> proxies = new ArrayList<>();

  @BeforeEach
  void start() {
    upstream = FakeUpstream.start();
    prefix = "t-" + UUID.randomUUID() + "/";
  }

  @AfterEach
  void stop() throws IOException {
    for (ProxyHarness proxy : proxies) {
      proxy.close();
    }
    upstream.close();
  }

  ProxyHarness replica(S3ProxyServer s3, URI endpoint, String name, boolean presign)
      throws Exception {
    TransshipConfig base =
        ProxyHarness.config(
            upstream,
            dir.resolve(name),
            Duration.ofMinutes(5),
            null,
            null,
            "zstd",
            new ConversionConfig(Duration.ofSeconds(60), 3, 2, 2, false, true));
    TransshipConfig.S3Settings settings =
        new TransshipConfig.S3Settings(
            S3ProxyServer.BUCKET,
            prefix,
            S3ProxyServer.REGION,
            endpoint,
            true,
            S3ProxyServer.ACCESS_KEY,
            S3ProxyServer.SECRET_KEY,
            5L << 20,
            presign,
            Duration.ofMinutes(5));
    TransshipConfig config =
        new TransshipConfig(
            base.listen(),
            base.adminListen(),
            new TransshipConfig.StorageConfig(dir.resolve(name), 0, settings),
            base.tagTtl(),
            base.defaultUpstream(),
            base.upstreams(),
            base.conversion());
    ProxyHarness proxy = ProxyHarness.start(config, upstream);
    proxies.add(proxy);
    return proxy;
  }

  String converted(ProxyHarness proxy) throws IOException {
    HttpResponse<byte[]> response =
        proxy.get("/v2/fake/team/app/manifests/v1", "User-Agent", CONTAINERD, "Accept", ACCEPT);
    assertThat(response.statusCode()).isEqualTo(200);
    return response.headers().firstValue("Docker-Content-Digest").orElseThrow();
  }

  @Test
  void aSecondReplicaServesWhatTheFirstConvertedWithoutConvertingAgain(S3ProxyServer s3)
      throws Exception {
    TestImages.Image image = TestImages.push(upstream, "team/app", "v1", 21, 2, false);
    ProxyHarness first = replica(s3, s3.endpoint(), "a", false);
    String digest = converted(first);
    assertThat(digest).isNotEqualTo(image.manifest().toString());

    ProxyHarness second = replica(s3, s3.endpoint(), "b", false);
    upstream.setDown(true); // everything must come from S3 now
    HttpResponse<byte[]> manifest = second.get("/v2/fake/team/app/manifests/" + digest);
    assertThat(manifest.statusCode()).isEqualTo(200);
    String layer =
        ConversionProxyTest.JSON
            .readTree(manifest.body())
            .path("layers")
            .get(0)
            .path("digest")
            .asText();
    HttpResponse<byte[]> fromSecond = second.get("/v2/fake/team/app/blobs/" + layer);
    HttpResponse<byte[]> fromFirst = first.get("/v2/fake/team/app/blobs/" + layer);
    assertThat(fromSecond.statusCode()).isEqualTo(200);
    assertThat(fromSecond.body()).isEqualTo(fromFirst.body());
    assertThat(startedConversions(second)).isZero();
  }

  @Test
  void replicasPulledConcurrentlyConvertEachLayerOnceAndAgree(S3ProxyServer s3) throws Exception {
    TestImages.push(upstream, "team/app", "v1", 22, 3, false);
    upstream.delayMillis("/blobs/", 200);
    ProxyHarness a = replica(s3, s3.endpoint(), "a", false);
    ProxyHarness b = replica(s3, s3.endpoint(), "b", false);
    List<String> digests = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<String>> pulls = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        ProxyHarness proxy = i % 2 == 0 ? a : b;
        pulls.add(pool.submit(() -> converted(proxy)));
      }
      for (Future<String> pull : pulls) {
        digests.add(pull.get());
      }
    }
    assertThat(digests).containsOnly(digests.get(0));
    double started = startedConversions(a) + startedConversions(b);
    assertThat(started).isEqualTo(3.0);
  }

  @Test
  void blobGetsCanBeRedirectedToPresignedUrlsButNeverHeadOrMultiRange(S3ProxyServer s3)
      throws Exception {
    TestImages.Image image = TestImages.push(upstream, "team/app", "v1", 23, 1, false);
    ProxyHarness proxy = replica(s3, s3.endpoint(), "p", true);
    String blobPath = "/v2/fake/team/app/blobs/" + image.layers().get(0);
    proxy.get(blobPath); // cache it (miss: served by transship)
    // the client has every byte once the digest checked; the upload to S3 may still be running
    HttpResponse<byte[]> redirect = proxy.get(blobPath);
    for (int i = 0; i < 100 && redirect.statusCode() == 200; i++) {
      Thread.sleep(100);
      redirect = proxy.get(blobPath);
    }
    assertThat(redirect.statusCode()).isEqualTo(307);
    assertThat(redirect.headers().firstValue("Cache-Control")).hasValue("no-store");
    String location = redirect.headers().firstValue("Location").orElseThrow();
    assertThat(location).startsWith(s3.endpoint().toString());
    HttpResponse<byte[]> followed =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(location)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    assertThat(followed.body()).isEqualTo(TestImages.gzip(image.tars().get(0)));
    assertThat(proxy.head(blobPath).statusCode()).isEqualTo(200);
    HttpResponse<byte[]> multi = proxy.get(blobPath, "Range", "bytes=0-1,10-11");
    assertThat(multi.statusCode()).isEqualTo(206);
    assertThat(multi.headers().firstValue("Content-Type").orElseThrow())
        .startsWith("multipart/byteranges");
  }

  @Test
  void whileS3IsUnreachableTheProxyServesPassThroughAndRecovers(S3ProxyServer s3) throws Exception {
    TestImages.Image image = TestImages.push(upstream, "team/app", "v1", 24, 1, false);
    try (TcpRelay relay = new TcpRelay(s3.endpoint().getPort())) {
      relay.setDown(true);
      ProxyHarness proxy = replica(s3, URI.create("http://127.0.0.1:" + relay.port()), "d", false);
      assertThat(proxy.admin("/readyz")).startsWith("ready, degraded: storage unavailable");
      assertThat(proxy.admin("/metrics")).contains("transship_storage_available 0.0");
      HttpResponse<byte[]> original =
          proxy.get("/v2/fake/team/app/manifests/v1", "User-Agent", CONTAINERD, "Accept", ACCEPT);
      assertThat(original.body()).isEqualTo(image.manifestBytes());
      HttpResponse<byte[]> blob = proxy.get("/v2/fake/team/app/blobs/" + image.layers().get(0));
      assertThat(blob.statusCode()).isEqualTo(200);
      assertThat(blob.body()).isEqualTo(TestImages.gzip(image.tars().get(0)));

      relay.setDown(false);
      String ready = "";
      for (int i = 0; i < 100 && !ready.equals("ready\n"); i++) {
        Thread.sleep(200);
        ready = proxy.admin("/readyz");
      }
      assertThat(ready).isEqualTo("ready\n");
      assertThat(converted(proxy)).isNotEqualTo(image.manifest().toString());
    }
  }

  private static double startedConversions(ProxyHarness proxy) throws IOException {
    double sum = 0; // over formats: every format's series exists from the start
    for (String line : proxy.admin("/metrics").split("\n")) {
      if (line.startsWith("transship_conversions_started_total{")) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }
}
