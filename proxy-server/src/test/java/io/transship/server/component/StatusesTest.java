package io.transship.server.component;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.transship.oci.Digest;
import io.transship.oci.MediaTypes;
import io.transship.server.testing.FakeUpstream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whose fault it was decides the status: the client's (4xx), the upstream's (502) or ours (503).
 */
class StatusesTest {
  @TempDir Path root;
  FakeUpstream upstream;
  ProxyHarness harness;

  @BeforeEach
  void start() {
    upstream = FakeUpstream.start();
  }

  @AfterEach
  void stop() throws IOException {
    if (harness != null) {
      harness.close();
    }
    upstream.close();
  }

  @Test
  void anUpstreamManifestOverFourMebibytesIsABadGatewayNotAnInvalidRequest() throws Exception {
    byte[] huge = new byte[5 << 20];
    java.util.Arrays.fill(huge, (byte) ' ');
    byte[] head =
        ("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST + "\"}")
            .getBytes(StandardCharsets.UTF_8);
    System.arraycopy(head, 0, huge, 0, head.length);
    upstream.putManifest("team/app", "huge", huge, MediaTypes.OCI_MANIFEST);
    harness = ProxyHarness.start(upstream, root, Duration.ofMinutes(1));
    HttpResponse<byte[]> response = harness.get("/v2/fake/team/app/manifests/huge");
    assertThat(response.statusCode()).isEqualTo(502);
    assertThat(new String(response.body(), StandardCharsets.UTF_8))
        .contains("larger than 4 MiB")
        .doesNotContain("MANIFEST_INVALID");
  }

  @Test
  void aNegativeOrNonNumericPageSizeIsABadRequest() throws Exception {
    harness = ProxyHarness.start(upstream, root, Duration.ofMinutes(1));
    for (String n : new String[] {"-1", "abc", "99999999999"}) {
      HttpResponse<byte[]> response = harness.get("/v2/fake/team/app/tags/list?n=" + n);
      assertThat(response.statusCode()).as("n=" + n).isEqualTo(400);
      assertThat(new String(response.body(), StandardCharsets.UTF_8))
          .contains("PAGINATION_NUMBER_INVALID");
    }
  }

  /**
   * A real full disk: the store on a 2 MiB tmpfs (needs root to mount; skipped otherwise) and a 4
   * MiB blob. The client's body is cut short, the upstream is asked once (no resumption or retry
   * against it: it did nothing wrong), and the metric counts it. A client that arrives before the
   * size is known gets 503 naming the local storage.
   */
  @Test
  void aFullLocalDiskIsAStorageErrorNotAnUpstreamFailure() throws Exception {
    Path small = Files.createDirectories(root.resolve("small"));
    assumeTrue(
        run("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", small.toString()) == 0,
        "needs root to mount a small tmpfs");
    try {
      byte[] content = new byte[4 << 20];
      new Random(5).nextBytes(content);
      Digest digest = upstream.putBlob(content);
      harness = ProxyHarness.start(upstream, small, Duration.ofMinutes(1));
      // the status line and Content-Length went out before the disk filled: the body is cut
      // short, the only way left to tell the client
      assertThatThrownBy(() -> harness.get("/v2/fake/team/app/blobs/" + digest))
          .isInstanceOf(IOException.class);
      assertThat(upstream.count("GET", "/blobs/" + digest)).isEqualTo(1);
      assertThat(harness.admin("/metrics"))
          .contains("transship_storage_errors_total{operation=\"spool\"} 1.0");
    } finally {
      if (harness != null) {
        harness.close();
        harness = null;
      }
      run("umount", small.toString());
    }
  }

  private static int run(String... command) throws Exception {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      process.getInputStream().readAllBytes();
      return process.waitFor(30, TimeUnit.SECONDS) ? process.exitValue() : -1;
    } catch (IOException e) {
      return -1;
    }
  }
}
