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
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code transship warm IMAGE}: convert an image ahead of its first pull.
 *
 * <p>Output contract (shared with {@code resolve}): progress goes to stderr; stdout carries only
 * the result — the converted digest, one line (with {@code --platform}, one {@code <digest>} line
 * per converted platform manifest) — or, with {@code --json}, the server's JSON event lines whose
 * last one is {@code "event":"done"}. Exit 0: done; 1: failure; 2: usage mistake (an invalid {@code
 * --platform} is refused before anything is asked).
 */
@Command(
    name = "warm",
    description = {
      "Convert an image on a running proxy before anyone pulls it (for CI after a push).",
      "IMAGE is written as you pull it: docker.io/library/alpine:3.20, alias/repo:tag,",
      "or proxy-host:port/alias/repo:tag."
    })
public final class WarmCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final Pattern PLATFORM = Pattern.compile("[a-z0-9_.-]+/[a-z0-9_.-]+(/[a-z0-9_.-]+)?");

  @Parameters(index = "0", paramLabel = "IMAGE", description = "e.g. docker.io/library/python:3.12")
  String image;

  @Option(names = "--format", description = "zstd or estargz (default: the upstream's format)")
  String format;

  @Option(
      names = "--platform",
      paramLabel = "OS/ARCH[/VARIANT]",
      description = "convert only this platform of a multi-platform image; repeatable")
  List<String> platforms = List.of();

  @Option(names = "--json", description = "print the server's JSON event lines on stdout")
  boolean json;

  @Mixin AdminTarget target;

  @Override
  public Integer call() throws Exception {
    for (String platform : platforms) {
      if (!PLATFORM.matcher(platform).matches()) {
        System.err.println(
            "transship: invalid --platform '"
                + platform
                + "': use os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8");
        return 2;
      }
    }
    List<Map.Entry<String, String>> query = new ArrayList<>();
    query.add(new SimpleEntry<>("image", image));
    query.add(new SimpleEntry<>("format", format));
    platforms.forEach(p -> query.add(new SimpleEntry<>("platform", p)));
    HttpResponse<InputStream> response = target.client().send("POST", "/warm", query);
    if (response.statusCode() != 200) {
      System.err.println("transship: " + AdminClient.errorOf(response));
      return 1;
    }
    PrintStream progress = System.err;
    PrintStream out = System.out;
    int exit = -1; // until "done" or "error"
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = lines.readLine()) != null) {
        if (json) {
          out.println(line);
        }
        JsonNode event = JSON.readTree(line);
        switch (event.path("event").asText()) {
          case "layer-started" ->
              progress.printf(
                  "  layer %s  %s  converting...%n",
                  shortDigest(event.path("layer")), mb(event.path("size")));
          case "layer-done" ->
              progress.printf(
                  "  layer %s  -> %s %s  done%n",
                  shortDigest(event.path("layer")),
                  shortDigest(event.path("converted")),
                  mb(event.path("size")));
          case "layer-failed" ->
              progress.printf(
                  "  layer %s  kept original: %s%n",
                  shortDigest(event.path("layer")), event.path("reason").asText());
          case "manifest-done" ->
              progress.printf(
                  "manifest %s -> %s%n",
                  shortDigest(event.path("source")), shortDigest(event.path("converted")));
          case "done" -> {
            exit = 0;
            if (!json) {
              if (event.has("converted")) {
                out.println(event.path("converted").asText());
              } else {
                event.path("convertedPlatforms").forEach(d -> out.println(d.asText()));
              }
            }
          }
          case "error" -> {
            System.err.println("transship: " + event.path("message").asText());
            exit = 1;
          }
          default -> {}
        }
      }
    }
    if (exit < 0) {
      System.err.println("transship: the proxy ended the warm-up without a result");
      exit = 1;
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
