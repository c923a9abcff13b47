package io.transship.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Ranged blob GETs (java.net.http) through the proxy for a multi-MB layer: single ranges (206), two
 * ranges (206 multipart/byteranges) and an unsatisfiable one (416 with {@code Content-Range: bytes
 * *&#47;size}), each on a cold proxy (cache miss, a fresh proxy per case) and all on a warm one
 * (cache hit: the upstream must not see the blob again).
 */
@Tag("e2e")
@ExtendWith(DumpLogsOnFailure.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RangeIT {
  private static E2eEnv env;
  private static DockerRegistry registry;
  private static TestImages.Blob layer;
  private static byte[] blob;

  /** A Range header and the byte ranges {first, last} it must yield; none means 416. */
  record Case(String name, String header, long[][] ranges) {
    @Override
    public String toString() {
      return name + " (" + header + ")";
    }
  }

  static Stream<Case> cases() {
    long size = blob.length;
    return Stream.of(
        new Case("first two bytes", "bytes=0-1", new long[][] {{0, 1}}),
        new Case("from 100 to the end", "bytes=100-", new long[][] {{100, size - 1}}),
        new Case("last 50 bytes", "bytes=-50", new long[][] {{size - 50, size - 1}}),
        new Case("two ranges", "bytes=0-9,100-199", new long[][] {{0, 9}, {100, 199}}),
        new Case("unsatisfiable", "bytes=" + size + "-" + (size + 10), new long[0][]));
  }

  @BeforeAll
  static void setUp() {
    Tools.require("skopeo", "docker-registry", "tar");
    env = E2eEnv.create("range");
    TestImages images = TestImages.build(env);
    registry = DockerRegistry.plain(env, "lab");
    images.pushApp(new Skopeo(env), registry);
    layer = images.appLayers().getFirst(); // the biggest, a few MB
    blob = images.blobBytes(layer.digest());
  }

  @AfterAll
  static void tearDown() {
    if (env != null) {
      env.close();
    }
  }

  private static int cold;

  @ParameterizedTest(name = "cold cache: {0}")
  @MethodSource("cases")
  @Order(1)
  void rangeOnColdProxy(Case c) {
    Transship p = Transship.with("lab", registry).start(env, "cold-" + ++cold);
    try {
      check(p, c);
    } finally {
      p.stop();
    }
  }

  @Test
  @Order(2)
  void rangesOnWarmProxy() {
    Transship p = Transship.with("lab", registry).start(env, "warm");
    HttpResponse<byte[]> full = Http.get(blobUrl(p));
    assertThat(full.statusCode()).as("full GET %s", blobUrl(p)).isEqualTo(200);
    assertThat("sha256:" + FileTree.sha256Hex(full.body())).isEqualTo(layer.digest());

    // wait (bounded) until a request is answered without the upstream seeing the blob again
    boolean cached = false;
    for (int i = 0; i < 40 && !cached; i++) {
      long mark = registry.daemon().logMark();
      HttpResponse<byte[]> r =
          Http.send(Http.request(blobUrl(p)).header("Range", "bytes=0-0").GET().build());
      assertThat(r.statusCode()).isEqualTo(206);
      cached = upstreamBlobGets(mark).isEmpty();
      if (!cached) {
        Daemon.sleep(250);
      }
    }
    assertThat(cached)
        .as("after a full GET the blob is served without going to the upstream")
        .isTrue();

    long mark = registry.daemon().logMark();
    cases().forEach(c -> check(p, c));
    assertThat(upstreamBlobGets(mark))
        .as("upstream blob GETs during warm range requests")
        .isEmpty();
  }

  private static List<DockerRegistry.Access> upstreamBlobGets(long mark) {
    return registry.accessesSince(mark).stream()
        .filter(a -> a.method().equals("GET") && a.path().contains(layer.digest()))
        .toList();
  }

  private static String blobUrl(Transship p) {
    return p.url() + "/v2/lab/e2e/app/blobs/" + layer.digest();
  }

  private static void check(Transship p, Case c) {
    long size = blob.length;
    String what = "GET " + blobUrl(p) + " with Range: " + c.header();
    HttpResponse<byte[]> r =
        Http.send(Http.request(blobUrl(p)).header("Range", c.header()).GET().build());
    String contentRange = r.headers().firstValue("Content-Range").orElse(null);
    String contentType = r.headers().firstValue("Content-Type").orElse(null);
    String got =
        " -> "
            + r.statusCode()
            + ", Content-Range: "
            + contentRange
            + ", Content-Type: "
            + contentType
            + ", "
            + r.body().length
            + " body bytes";

    if (c.ranges().length == 0) {
      assertThat(r.statusCode()).as(what + got).isEqualTo(416);
      assertThat(contentRange).as(what + got).isEqualTo("bytes */" + size);
      return;
    }
    assertThat(r.statusCode()).as(what + got).isEqualTo(206);
    if (c.ranges().length == 1) {
      long first = c.ranges()[0][0];
      long last = c.ranges()[0][1];
      assertThat(contentRange).as(what + got).isEqualTo("bytes " + first + "-" + last + "/" + size);
      assertThat(r.headers().firstValueAsLong("Content-Length").orElse(-1))
          .as(what + " Content-Length")
          .isEqualTo(last - first + 1);
      assertThat(r.body()).as(what + " body").isEqualTo(slice(first, last));
      return;
    }
    List<ByteRanges.Part> parts = ByteRanges.parse(r.body(), ByteRanges.boundary(contentType));
    assertThat(parts).as(what + got + ": parts").hasSize(c.ranges().length);
    for (int i = 0; i < parts.size(); i++) {
      ByteRanges.Part part = parts.get(i);
      long[] want = c.ranges()[i];
      assertThat(new long[] {part.first(), part.last(), part.complete()})
          .as(what + " part " + i + " Content-Range")
          .containsExactly(want[0], want[1], size);
      assertThat(part.data()).as(what + " part " + i + " bytes").isEqualTo(slice(want[0], want[1]));
    }
  }

  private static byte[] slice(long first, long last) {
    return Arrays.copyOfRange(blob, (int) first, (int) last + 1);
  }
}
