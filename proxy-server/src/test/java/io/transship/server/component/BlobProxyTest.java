package io.transship.server.component;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.transship.oci.Digest;
import io.transship.server.testing.FakeUpstream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Blob behaviour of a real transship against a fault-injecting in-process upstream. */
class BlobProxyTest {
  @TempDir Path root;
  FakeUpstream upstream;
  ProxyHarness harness;
  byte[] content;
  Digest digest;

  @BeforeEach
  void start() throws Exception {
    upstream = FakeUpstream.start();
    content = new byte[6 * 1024 * 1024 + 123];
    new Random(42).nextBytes(content);
    digest = upstream.putBlob(content);
    harness = ProxyHarness.start(upstream, root, Duration.ofMinutes(1));
  }

  @AfterEach
  void stop() throws IOException {
    harness.close();
    upstream.close();
  }

  private String blobPath() {
    return "/v2/fake/team/app/blobs/" + digest;
  }

  private int upstreamBlobGets() {
    return upstream.count("GET", "/blobs/" + digest);
  }

  @Test
  void concurrentRequestsForAColdBlobCauseOneUpstreamFetch() throws Exception {
    upstream.delayMillis("/blobs/", 300);
    int clients = 8;
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<HttpResponse<byte[]>>> responses = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        responses.add(pool.submit(() -> harness.get(blobPath())));
      }
      for (Future<HttpResponse<byte[]>> response : responses) {
        assertThat(response.get().statusCode()).isEqualTo(200);
        assertThat(response.get().body()).isEqualTo(content);
      }
    }
    assertThat(upstreamBlobGets()).isEqualTo(1);
  }

  @Test
  void secondPullIsServedFromTheStoreWithoutTheUpstream() throws Exception {
    assertThat(harness.get(blobPath()).body()).isEqualTo(content);
    upstream.setDown(true);
    HttpResponse<byte[]> again = harness.get(blobPath());
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(again.body()).isEqualTo(content);
    assertThat(again.headers().firstValue("Docker-Content-Digest")).hasValue(digest.toString());
    assertThat(upstreamBlobGets()).isEqualTo(1);
  }

  @Test
  void wrongBytesFromUpstreamAreNeverServedWholeNorCached() throws Exception {
    upstream.corruptBody("/blobs/", 1);
    assertThatThrownBy(() -> harness.get(blobPath())).isInstanceOf(IOException.class);
    assertThat(storedBlobFiles()).isEmpty();
    HttpResponse<byte[]> retry = harness.get(blobPath());
    assertThat(retry.body()).isEqualTo(content);
    assertThat(upstreamBlobGets()).isEqualTo(2);
    assertThat(harness.admin("/metrics"))
        .contains("transship_upstream_digest_mismatches_total 1.0");
  }

  @Test
  void aBodyCutOffMidwayIsResumedWithARangeRequest() throws Exception {
    upstream.resetMidBody("/blobs/", 1);
    HttpResponse<byte[]> response = harness.get(blobPath());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo(content);
    assertThat(upstream.requests())
        .anySatisfy(r -> assertThat(r.header("Range")).startsWith("bytes="));
  }

  @Test
  void rangesAreHonouredOnMissAndOnHit() throws Exception {
    HttpResponse<byte[]> miss = harness.get(blobPath(), "Range", "bytes=10-19");
    assertThat(miss.statusCode()).isEqualTo(206);
    assertThat(miss.headers().firstValue("Content-Range"))
        .hasValue("bytes 10-19/" + content.length);
    assertThat(miss.body()).isEqualTo(Arrays.copyOfRange(content, 10, 20));

    HttpResponse<byte[]> suffix = harness.get(blobPath(), "Range", "bytes=-5");
    assertThat(suffix.statusCode()).isEqualTo(206);
    assertThat(suffix.body())
        .isEqualTo(Arrays.copyOfRange(content, content.length - 5, content.length));

    HttpResponse<byte[]> open = harness.get(blobPath(), "Range", "bytes=100-");
    assertThat(open.body()).isEqualTo(Arrays.copyOfRange(content, 100, content.length));
    assertThat(open.headers().firstValue("Accept-Ranges")).hasValue("bytes");
  }

  @Test
  void severalRangesGetAMultipartByterangesReply() throws Exception {
    harness.get(blobPath()); // warm
    HttpResponse<byte[]> multi = harness.get(blobPath(), "Range", "bytes=0-9,1000-1099");
    assertThat(multi.statusCode()).isEqualTo(206);
    String type = multi.headers().firstValue("Content-Type").orElseThrow();
    assertThat(type).startsWith("multipart/byteranges; boundary=");
    List<byte[]> parts = Multipart.parts(multi.body(), type.substring(type.indexOf('=') + 1));
    assertThat(parts).hasSize(2);
    assertThat(parts.get(0)).isEqualTo(Arrays.copyOfRange(content, 0, 10));
    assertThat(parts.get(1)).isEqualTo(Arrays.copyOfRange(content, 1000, 1100));
  }

  @Test
  void anUnsatisfiableRangeIs416WithTheSize() throws Exception {
    HttpResponse<byte[]> response =
        harness.get(blobPath(), "Range", "bytes=" + content.length + "-");
    assertThat(response.statusCode()).isEqualTo(416);
    assertThat(response.headers().firstValue("Content-Range"))
        .hasValue("bytes */" + content.length);
    assertThat(new String(response.body())).contains("RANGE_INVALID");
  }

  @Test
  void headOnAMissAsksUpstreamWithoutDownloading() throws Exception {
    HttpResponse<byte[]> head = harness.head(blobPath());
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.headers().firstValueAsLong("Content-Length")).hasValue(content.length);
    assertThat(head.headers().firstValue("Docker-Content-Digest")).hasValue(digest.toString());
    assertThat(upstreamBlobGets()).isZero();
  }

  @Test
  void anUnknownBlobIs404BlobUnknown() throws Exception {
    HttpResponse<byte[]> response = harness.get("/v2/fake/team/app/blobs/sha256:" + "0".repeat(64));
    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(new String(response.body())).contains("\"BLOB_UNKNOWN\"");
  }

  @Test
  void anUpstreamThatKeepsFailingGives503AndIsRetried() throws Exception {
    upstream.failWith("/blobs/", 500, 10, Map.of());
    HttpResponse<byte[]> response = harness.get(blobPath());
    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(new String(response.body())).contains("\"UNAVAILABLE\"");
    assertThat(upstreamBlobGets()).isEqualTo(3);
    assertThat(storedBlobFiles()).isEmpty();
  }

  @Test
  void blobsSurviveARestart() throws Exception {
    harness.get(blobPath());
    // the client got the last byte once the digest checked; the store commit follows it
    for (int i = 0; i < 100 && storedBlobFiles().isEmpty(); i++) {
      Thread.sleep(50);
    }
    harness.close();
    harness = ProxyHarness.start(upstream, root, Duration.ofMinutes(1));
    upstream.setDown(true);
    assertThat(harness.get(blobPath()).body()).isEqualTo(content);
  }

  private List<Path> storedBlobFiles() throws IOException {
    Path blobs = root.resolve("blobs");
    if (!Files.exists(blobs)) {
      return List.of();
    }
    try (Stream<Path> files = Files.walk(blobs)) {
      return files.filter(Files::isRegularFile).toList();
    }
  }
}
