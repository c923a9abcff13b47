package io.transship.server.component;

import static org.assertj.core.api.Assertions.assertThat;

import io.transship.oci.Digest;
import io.transship.server.config.ServerLimits;
import io.transship.server.config.TransshipConfig;
import io.transship.server.testing.FakeUpstream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reliability suite, load: concurrent cold pulls of many blobs at once through a real transship.
 * Every body is verified against its digest, and the upstream is asked exactly once per blob. The
 * short form (CI) runs 200 concurrent pulls of 20 blobs; {@code -Dreliability.long=true} runs 1,000
 * concurrent pulls of 200 blobs. Prints its figures.
 */
class ColdPullLoadTest {
  private static final boolean LONG = Boolean.getBoolean("reliability.long");

  @TempDir Path root;
  FakeUpstream upstream;
  ProxyHarness harness;

  @AfterEach
  void stop() throws IOException {
    if (harness != null) {
      harness.close();
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  @Test
  void concurrentColdPullsAreAllVerifiedAndEachBlobIsFetchedOnce() throws Exception {
    int blobs = LONG ? 200 : 20;
    int clientsPerBlob = LONG ? 5 : 10;
    int size = LONG ? 2 << 20 : 1 << 20;
    upstream = FakeUpstream.start();
    upstream.delayMillis("/blobs/", 300); // every client arrives while the download is cold
    List<Digest> digests = new ArrayList<>();
    Random random = new Random(11);
    for (int i = 0; i < blobs; i++) {
      byte[] content = new byte[size + i];
      random.nextBytes(content);
      digests.add(upstream.putBlob(content));
    }
    TransshipConfig base = ProxyHarness.config(upstream, root, Duration.ofMinutes(1), null, null);
    harness =
        ProxyHarness.start(
            new TransshipConfig(
                base.listen(),
                base.adminListen(),
                base.storage(),
                base.tagTtl(),
                base.defaultUpstream(),
                base.upstreams(),
                base.conversion(),
                new ServerLimits(
                    Duration.ofSeconds(20), Duration.ofMinutes(5), 10_000, 5_000, 8192, 32768),
                base.maxBlobBytes()),
            upstream);

    int total = blobs * clientsPerBlob;
    HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .build();
    AtomicInteger errors = new AtomicInteger();
    AtomicInteger verified = new AtomicInteger();
    CountDownLatch go = new CountDownLatch(1);
    long started;
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> futures = new ArrayList<>();
      for (int c = 0; c < clientsPerBlob; c++) {
        for (Digest digest : digests) {
          futures.add(
              pool.submit(() -> {
                go.await();
                try {
                  HttpResponse<InputStream> response =
                      client.send(
                          HttpRequest.newBuilder(
                                  URI.create(harness.base() + "/v2/fake/team/app/blobs/" + digest))
                              .timeout(Duration.ofSeconds(120))
                              .build(),
                          HttpResponse.BodyHandlers.ofInputStream());
                  MessageDigest sha = MessageDigest.getInstance("SHA-256");
                  try (InputStream body = response.body()) {
                    byte[] buffer = new byte[64 * 1024];
                    for (int n = body.read(buffer); n >= 0; n = body.read(buffer)) {
                      sha.update(buffer, 0, n);
                    }
                  }
                  if (response.statusCode() == 200
                      && digest.encoded().equals(HexFormat.of().formatHex(sha.digest()))) {
                    verified.incrementAndGet();
                  } else {
                    errors.incrementAndGet();
                  }
                } catch (IOException e) {
                  errors.incrementAndGet();
                }
                return null;
              }));
        }
      }
      started = System.nanoTime();
      go.countDown();
      for (Future<?> future : futures) {
        future.get();
      }
    }
    long millis = (System.nanoTime() - started) / 1_000_000;
    int maxFetches = 0;
    int fetches = 0;
    for (Digest digest : digests) {
      int n = upstream.count("GET", "/blobs/" + digest);
      fetches += n;
      maxFetches = Math.max(maxFetches, n);
    }
    System.out.printf(
        "[load] %d concurrent cold pulls of %d blobs (%d MiB each): %d verified, %d errors, %d ms,"
            + " %.2f upstream fetches per blob (max %d), test JVM peak RSS %d MiB%n",
        total,
        blobs,
        size >> 20,
        verified.get(),
        errors.get(),
        millis,
        fetches / (double) blobs,
        maxFetches,
        peakRssMib());
    assertThat(errors.get()).isZero();
    assertThat(verified.get()).isEqualTo(total);
    assertThat(maxFetches).as("upstream fetches of any one blob").isEqualTo(1);
    assertThat(fetches).isEqualTo(blobs);
  }

  static long peakRssMib() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("\\D", "")) >> 10;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux
    }
    return -1;
  }
}
