package io.transship.server.component;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.transship.server.testing.FakeUpstream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/grafana-dashboard.json against a running transship: every series its queries name is
 * exported, the exposition passes {@code promtool check metrics}, and a real Prometheus scraping
 * transship evaluates every query without error.
 */
class DashboardTest {
  static final Path DASHBOARD = Path.of("..", "docs", "grafana-dashboard.json");
  private static final Pattern SERIES =
      Pattern.compile("\\b(?:transship|jvm|process|system)_[a-z0-9_]+");
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path root;
  @TempDir Path prometheusDir;
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

  static List<String> queries() throws IOException {
    List<String> exprs = new ArrayList<>();
    JsonNode dashboard = JSON.readTree(DASHBOARD.toFile());
    for (JsonNode panel : dashboard.path("panels")) {
      for (JsonNode target : panel.path("targets")) {
        exprs.add(target.path("expr").asText());
      }
    }
    for (JsonNode variable : dashboard.path("templating").path("list")) {
      if (variable.path("type").asText().equals("query")) {
        exprs.add(variable.path("query").asText());
      }
    }
    return exprs;
  }

  @Test
  void everyQueryNamesSeriesTransshipExports() throws IOException {
    Set<String> samples = MetricsDocsTest.sampleNames(harness.admin("/metrics"));
    List<String> queries = queries();
    assertThat(queries).hasSizeGreaterThan(20);
    Set<String> unknown = new TreeSet<>();
    for (String query : queries) {
      Matcher m = SERIES.matcher(query);
      assertThat(m.find()).as("query names no series: %s", query).isTrue();
      do {
        if (!samples.contains(m.group())) {
          unknown.add(m.group());
        }
      } while (m.find());
    }
    assertThat(unknown).as("series in the dashboard that /metrics does not have").isEmpty();
  }

  @Test
  void theExpositionPassesPromtool() throws Exception {
    assumeTrue(onPath("promtool"), "promtool (Debian package prometheus) not installed");
    Path scrape = Files.writeString(prometheusDir.resolve("scrape.txt"), harness.admin("/metrics"));
    Process check =
        new ProcessBuilder("promtool", "check", "metrics")
            .redirectInput(scrape.toFile())
            .redirectErrorStream(true)
            .start();
    String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(check.waitFor(60, TimeUnit.SECONDS)).isTrue();
    List<String> transshipProblems =
        output.lines().filter(l -> l.startsWith("transship_")).toList();
    assertThat(transshipProblems).as(output).isEmpty();
  }

  @Test
  void aRealPrometheusEvaluatesEveryQuery() throws Exception {
    assumeTrue(onPath("prometheus"), "prometheus (Debian package) not installed");
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    Path config =
        Files.writeString(
            prometheusDir.resolve("prometheus.yml"),
            """
            global: { scrape_interval: 1s, evaluation_interval: 1s }
            scrape_configs:
              - job_name: transship
                static_configs: [ { targets: ["127.0.0.1:%d"] } ]
            """
                .formatted(harness.proxy.adminPort()));
    Process prometheus =
        new ProcessBuilder(
                "prometheus",
                "--config.file=" + config,
                "--storage.tsdb.path=" + prometheusDir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port)
            .redirectErrorStream(true)
            .redirectOutput(prometheusDir.resolve("prometheus.log").toFile())
            .start();
    HttpClient http = HttpClient.newHttpClient();
    try {
      String base = "http://127.0.0.1:" + port;
      JsonNode up = null;
      for (int i = 0; i < 120; i++) { // bounded: a scrape every second
        harness.get("/v2/");
        try {
          up = query(http, base, "transship_build_info");
          if (up.path("data").path("result").size() > 0) {
            break;
          }
        } catch (IOException notYet) {
          // Prometheus still starting
        }
        Thread.sleep(500);
      }
      assertThat(up).isNotNull();
      assertThat(up.path("data").path("result").size())
          .as("Prometheus scraped transship; log: %s", log())
          .isPositive();
      for (String expr : queries()) {
        String promql = expr.replace("$__rate_interval", "1m").replace("$job", ".*");
        if (promql.startsWith("label_values(")) {
          continue; // a Grafana variable function, not PromQL; its series is checked above
        }
        JsonNode answer = query(http, base, promql);
        assertThat(answer.path("status").asText())
            .as("%s -> %s", promql, answer)
            .isEqualTo("success");
      }
    } finally {
      prometheus.destroy();
      if (!prometheus.waitFor(20, TimeUnit.SECONDS)) {
        prometheus.destroyForcibly();
      }
    }
  }

  private String log() throws IOException {
    return Files.readString(prometheusDir.resolve("prometheus.log"));
  }

  private static JsonNode query(HttpClient http, String base, String promql)
      throws IOException, InterruptedException {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        base
                            + "/api/v1/query?query="
                            + URLEncoder.encode(promql, StandardCharsets.UTF_8)))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return JSON.readTree(response.body());
  }

  private static boolean onPath(String command) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }
}
