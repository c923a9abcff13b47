package io.transship.server.component;

import static org.assertj.core.api.Assertions.assertThat;

import io.transship.server.testing.FakeUpstream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * /metrics of a freshly started transship against docs/operations.md: every documented series
 * exists before the first request, every transship series is documented, names have one unit
 * suffix, and no doc names a series that does not exist.
 */
class MetricsDocsTest {
  static final Path DOCS = Path.of("..", "docs");
  private static final List<String> SUFFIXES = List.of("", "_bucket", "_count", "_sum", "_max");

  @TempDir Path root;
  FakeUpstream upstream;
  ProxyHarness harness;

  @BeforeEach
  void start() throws Exception {
    upstream = FakeUpstream.start();
    harness = ProxyHarness.start(upstream, root, Duration.ofMinutes(1));
  }

  @AfterEach
  void stop() throws IOException {
    harness.close();
    upstream.close();
  }

  /** Sample names of a Prometheus text scrape. */
  static Set<String> sampleNames(String scrape) {
    Set<String> names = new TreeSet<>();
    for (String line : scrape.split("\n")) {
      if (!line.isBlank() && !line.startsWith("#")) {
        names.add(line.split("[{ ]", 2)[0]);
      }
    }
    return names;
  }

  /** The series in the first column of the metrics table of docs/operations.md. */
  static Set<String> documented() throws IOException {
    Set<String> names = new LinkedHashSet<>();
    Pattern row = Pattern.compile("^\\| `([a-z_]+)` \\|");
    for (String line : Files.readAllLines(DOCS.resolve("operations.md"))) {
      Matcher m = row.matcher(line);
      if (m.find()) {
        names.add(m.group(1));
      }
    }
    return names;
  }

  static boolean exported(String series, Set<String> samples) {
    return SUFFIXES.stream().anyMatch(suffix -> samples.contains(series + suffix));
  }

  @Test
  void everyDocumentedSeriesExistsFromTheStart() throws IOException {
    Set<String> samples = sampleNames(harness.admin("/metrics"));
    Set<String> missing = new TreeSet<>();
    for (String series : documented()) {
      if (!exported(series, samples)) {
        missing.add(series);
      }
    }
    assertThat(missing)
        .as("documented but not in /metrics at start; samples: " + samples)
        .isEmpty();
  }

  @Test
  void everyTransshipSeriesIsDocumentedWithOneUnitSuffix() throws IOException {
    Set<String> samples = sampleNames(harness.admin("/metrics"));
    Set<String> docs = documented();
    Set<String> undocumented = new TreeSet<>();
    for (String sample : samples) {
      if (sample.startsWith("transship_")
          && docs.stream().noneMatch(d -> SUFFIXES.stream().anyMatch(s -> sample.equals(d + s)))) {
        undocumented.add(sample);
      }
      assertThat(sample).doesNotContain("_bytes_bytes").doesNotContain("_seconds_seconds");
    }
    assertThat(undocumented).as("exported but not in docs/operations.md").isEmpty();
  }

  static double value(String scrape, String sample) {
    for (String line : scrape.split("\n")) {
      if (line.startsWith(sample + " ")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError(sample + " not in scrape");
  }

  @Test
  void cacheFillEvictionsAndUpstreamBytesAreCounted() throws Exception {
    harness.close();
    io.transship.server.config.TransshipConfig base =
        ProxyHarness.config(upstream, root, Duration.ofMinutes(1), null, null);
    harness =
        ProxyHarness.start(
            new io.transship.server.config.TransshipConfig(
                base.listen(),
                base.adminListen(),
                new io.transship.server.config.TransshipConfig.StorageConfig(root, 10_000),
                base.tagTtl(),
                base.defaultUpstream(),
                base.upstreams(),
                base.conversion()),
            upstream);
    for (int i = 0; i < 3; i++) {
      byte[] blob = new byte[4000];
      new java.util.Random(i).nextBytes(blob);
      var digest = upstream.putBlob(blob);
      assertThat(harness.get("/v2/fake/team/app/blobs/" + digest).statusCode()).isEqualTo(200);
    }

    String scrape = harness.admin("/metrics");
    assertThat(value(scrape, "transship_cache_max_bytes")).isEqualTo(10_000);
    assertThat(value(scrape, "transship_cache_size_bytes")).isBetween(1.0, 10_000.0);
    assertThat(value(scrape, "transship_cache_objects")).isBetween(1.0, 2.0);
    assertThat(value(scrape, "transship_cache_evictions_total")).isGreaterThanOrEqualTo(1);
    assertThat(value(scrape, "transship_cache_evicted_bytes_total")).isGreaterThanOrEqualTo(4000);
    assertThat(value(scrape, "transship_upstream_fetched_bytes_total{upstream=\"fake\"}"))
        .isEqualTo(12_000);
    assertThat(value(scrape, "transship_served_bytes_total")).isEqualTo(12_000);
    assertThat(scrape).contains("transship_build_info{java=\"");
  }

  @Test
  void noDocNamesASeriesThatDoesNotExist() throws IOException {
    Set<String> samples = sampleNames(harness.admin("/metrics"));
    Set<String> docs = documented();
    Pattern series = Pattern.compile("\\btranss?hip_[a-z0-9_]+");
    Set<String> unknown = new TreeSet<>();
    List<Path> files;
    try (Stream<Path> list = Files.list(DOCS)) {
      files = new java.util.ArrayList<>(list.filter(p -> p.toString().endsWith(".md")).toList());
    }
    files.add(DOCS.resolveSibling("README.md"));
    files.add(DOCS.resolveSibling("bench").resolve("README.md"));
    for (Path file : files) {
      Matcher m = series.matcher(Files.readString(file));
      while (m.find()) {
        String name = m.group();
        if (!docs.contains(name) && !samples.contains(name) && !exported(name, samples)) {
          unknown.add(file.getFileName() + ": " + name);
        }
      }
    }
    assertThat(unknown).as("series named in docs that transship does not export").isEmpty();
  }
}
