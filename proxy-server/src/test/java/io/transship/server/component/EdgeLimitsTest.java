package io.transship.server.component;

import static org.assertj.core.api.Assertions.assertThat;

import io.transship.oci.Digest;
import io.transship.server.testing.FakeUpstream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a client can make the edge spend: bodies amplified by overlapping ranges, descriptors held
 * by replies that never read their source, and the order of pipelined requests.
 */
class EdgeLimitsTest {
  @TempDir Path root;
  FakeUpstream upstream;
  ProxyHarness harness;
  byte[] content;
  Digest digest;

  @BeforeEach
  void start() throws Exception {
    upstream = FakeUpstream.start();
    content = new byte[1024 * 1024];
    new Random(7).nextBytes(content);
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

  @Test
  void overlappingRangesCannotAmplifyABlob() throws Exception {
    String ranges =
        "bytes=" + IntStream.range(0, 256).mapToObj(i -> "0-").collect(Collectors.joining(","));
    for (int round = 0; round < 2; round++) { // cold (from the download), then warm (stored)
      HttpResponse<byte[]> reply = harness.get(blobPath(), "Range", ranges);
      assertThat(reply.statusCode()).isEqualTo(200);
      assertThat(reply.body()).isEqualTo(content);
    }
  }

  private static long openDescriptors() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }

  @Test
  void repliesThatNeverReadADownloadingBlobReleaseItsSpool() throws Exception {
    upstream.pauseMidBody("/blobs/" + digest, 4000, 1);
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<HttpResponse<byte[]>> whole = pool.submit(() -> harness.get(blobPath()));
      Thread.sleep(500); // the download is now paused half-way
      long before = openDescriptors();
      for (int i = 0; i < 200; i++) {
        HttpResponse<byte[]> reply =
            harness.get(blobPath(), "Range", "bytes=" + (content.length + 10) + "-");
        assertThat(reply.statusCode()).isEqualTo(416);
      }
      assertThat(openDescriptors() - before).isLessThan(20);
      assertThat(whole.get().body()).isEqualTo(content);
    }
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() throws Exception {
    upstream.delayMillis("/blobs/", 700); // the first request is the slow one
    try (Socket socket = new Socket("127.0.0.1", harness.proxy.port())) {
      socket.setSoTimeout(20_000);
      String requests =
          "GET "
              + blobPath()
              + " HTTP/1.1\r\nHost: x\r\n\r\n"
              + "GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n"
              + "HEAD /v2/fake/team/app/blobs/"
              + digest
              + " HTTP/1.1\r\nHost: x\r\n\r\n"
              + "GET /v2/nothing/here HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
      OutputStream out = socket.getOutputStream();
      out.write(requests.getBytes(StandardCharsets.US_ASCII)); // one write: one TCP segment
      out.flush();
      byte[] all = readAll(socket.getInputStream());
      String text = new String(all, StandardCharsets.ISO_8859_1);
      int first = text.indexOf("HTTP/1.1 200");
      int blobEnd = first + text.substring(first).indexOf("\r\n\r\n") + 4 + content.length;
      assertThat(first).isZero();
      String rest = text.substring(blobEnd);
      assertThat(rest).startsWith("HTTP/1.1 200"); // GET /v2/
      int third = rest.indexOf("HTTP/1.1", 1);
      assertThat(rest.substring(third)).startsWith("HTTP/1.1 200"); // HEAD of the blob
      int fourth = rest.indexOf("HTTP/1.1", third + 1);
      assertThat(fourth).isPositive();
      assertThat(rest.substring(fourth)).startsWith("HTTP/1.1 404");
      byte[] blob = java.util.Arrays.copyOfRange(all, blobEnd - content.length, blobEnd);
      assertThat(blob).isEqualTo(content);
    }
  }

  @Test
  void clientChosenMethodsDoNotBecomeMetricLabels() throws Exception {
    for (int i = 0; i < 50; i++) {
      harness.send("M" + i + "X", "/v2/");
    }
    String metrics = harness.admin("/metrics");
    assertThat(metrics).doesNotContain("M7X").contains("method=\"other\"");
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    in.transferTo(out);
    return out.toByteArray();
  }
}
