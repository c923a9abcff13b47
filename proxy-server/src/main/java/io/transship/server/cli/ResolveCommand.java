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

/** {@code transship resolve IMAGE}: print the converted digest of an image, to pin it. */
@Command(
    name = "resolve",
    description =
        "Print the digest clients get for an image in a format (exit 3: not converted yet).")
public final class ResolveCommand implements Callable<Integer> {
  @Parameters(index = "0", description = "image, e.g. docker.io/library/python:3.12")
  String image;

  @Option(names = "--format", description = "zstd or none (default: the upstream's format)")
  String format;

  @Option(names = "--json", description = "print the whole answer as JSON")
  boolean json;

  @Option(
      names = "--admin",
      defaultValue = "${env:TRANSSHIP_ADMIN_URL:-http://127.0.0.1:5001}",
      description = "admin URL of the proxy (default: ${DEFAULT-VALUE})")
  String admin;

  @Mixin AdminTokenOption adminToken;

  @Override
  public Integer call() throws Exception {
    HttpResponse<InputStream> response =
        new AdminClient(admin, adminToken.value())
            .send(
                "GET",
                "/resolve",
                List.of(new SimpleEntry<>("image", image), new SimpleEntry<>("format", format)));
    if (response.statusCode() != 200) {
      System.err.println("transship: " + AdminClient.errorOf(response));
      return 1;
    }
    JsonNode answer = new ObjectMapper().readTree(response.body());
    if (json) {
      System.out.println(answer.toString());
    }
    if (answer.path("converted").isNull()) {
      if (!json) {
        System.err.println("transship: " + image + " is not converted yet (run transship warm)");
      }
      return 3;
    }
    if (!json) {
      System.out.println(answer.path("converted").asText());
    }
    return 0;
  }
}
