package io.transship.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.util.AbstractMap.SimpleEntry;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code transship resolve IMAGE}: print the digest clients get for an image, to pin it.
 *
 * <p>Output contract (shared with {@code warm}): stdout carries only the result — here one digest
 * line, or with {@code --json} one JSON object — and messages go to stderr. Exit 0: converted (or
 * format none); 3: not converted yet; 1: failure; 2: usage or configuration mistake.
 */
@Command(
    name = "resolve",
    description = {
      "Print the digest clients get for an image in a format (exit 3: not converted yet).",
      "IMAGE is written as you pull it: docker.io/library/alpine:3.20, alias/repo:tag,",
      "or proxy-host:port/alias/repo:tag."
    })
public final class ResolveCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "IMAGE", description = "e.g. docker.io/library/python:3.12")
  String image;

  @Option(
      names = "--format",
      description = "zstd, estargz or none (default: the upstream's format)")
  String format;

  @Option(names = "--json", description = "print the answer as one JSON object")
  boolean json;

  @Mixin AdminTarget target;

  @Override
  public Integer call() throws Exception {
    HttpResponse<InputStream> response =
        target
            .client()
            .send(
                "GET",
                "/resolve",
                List.of(new SimpleEntry<>("image", image), new SimpleEntry<>("format", format)));
    if (response.statusCode() != 200) {
      System.err.println("transship: " + AdminClient.errorOf(response));
      return 1;
    }
    JsonNode answer = new ObjectMapper().readTree(response.body());
    boolean converted = !answer.path("converted").isNull();
    if (json) {
      System.out.println(answer.toString());
    } else if (converted) {
      System.out.println(answer.path("converted").asText());
    } else {
      System.err.println("transship: " + image + " is not converted yet (run transship warm)");
    }
    return converted ? 0 : 3;
  }
}
