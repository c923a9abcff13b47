package io.transship.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap.SimpleEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code transship warm IMAGE}: convert an image ahead of its first pull, showing progress. */
@Command(
    name = "warm",
    description =
        "Convert an image on a running proxy before anyone pulls it (for CI after a push).")
public final class WarmCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Parameters(index = "0", description = "image, e.g. docker.io/library/python:3.12")
  String image;

  @Option(names = "--format", description = "zstd (default: the upstream's format)")
  String format;

  @Option(
      names = "--platform",
      description = "os/arch[/variant]; repeat for several (default: all)")
  List<String> platforms = List.of();

  @Option(
      names = "--admin",
      defaultValue = "${env:TRANSSHIP_ADMIN_URL:-http://127.0.0.1:5001}",
      description = "admin URL of the proxy (default: ${DEFAULT-VALUE})")
  String admin;

  @Mixin AdminTokenOption adminToken;

  @Override
  public Integer call() throws Exception {
    List<Map.Entry<String, String>> query = new ArrayList<>();
    query.add(new SimpleEntry<>("image", image));
    query.add(new SimpleEntry<>("format", format));
    platforms.forEach(p -> query.add(new SimpleEntry<>("platform", p)));
    HttpResponse<InputStream> response =
        new AdminClient(admin, adminToken.value()).send("POST", "/warm", query);
    PrintStream out = System.out;
    if (response.statusCode() != 200) {
      System.err.println("transship: " + AdminClient.errorOf(response));
      return 1;
    }
    int exit = 0;
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = lines.readLine()) != null) {
        JsonNode event = JSON.readTree(line);
        String kind = event.path("event").asText();
        switch (kind) {
          case "layer-started" ->
              out.printf(
                  "  layer %s  %s  converting...%n",
                  shortDigest(event.path("layer")), mb(event.path("size")));
          case "layer-done" ->
              out.printf(
                  "  layer %s  -> %s %s  done%n",
                  shortDigest(event.path("layer")),
                  shortDigest(event.path("converted")),
                  mb(event.path("size")));
          case "layer-failed" -> {
            out.printf(
                "  layer %s  kept original: %s%n",
                shortDigest(event.path("layer")), event.path("reason").asText());
          }
          case "manifest-done" ->
              out.printf(
                  "manifest %s -> %s%n",
                  shortDigest(event.path("source")), shortDigest(event.path("converted")));
          case "done" -> {
            JsonNode converted = event.path("converted");
            out.println(
                converted.isMissingNode()
                    ? event.path("convertedPlatforms").toString()
                    : converted.asText());
          }
          case "error" -> {
            System.err.println("transship: " + event.path("message").asText());
            exit = 1;
          }
          default -> {}
        }
      }
    }
    return exit;
  }

  static String shortDigest(JsonNode digest) {
    String text = digest.asText();
    return text.length() > 19 ? text.substring(0, 19) : text;
  }

  static String mb(JsonNode bytes) {
    return String.format("%.1f MB", bytes.asLong() / 1e6);
  }
}
