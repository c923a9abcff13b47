package io.transship.server.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** A tiny client of the admin port for the CLI. */
final class AdminClient {
  private final URI base;
  private final String token;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  AdminClient(String base) {
    this(base, null);
  }

  /**
   * @param token the admin token sent as {@code Authorization: Bearer}, or null
   */
  AdminClient(String base, String token) {
    this.base = URI.create(base.replaceAll("/+$", ""));
    this.token = token;
  }

  /** Sends a request; {@code query} holds name/value pairs, null values are left out. */
  HttpResponse<InputStream> send(String method, String path, List<Map.Entry<String, String>> query)
      throws IOException {
    String q =
        query.stream()
            .filter(e -> e.getValue() != null)
            .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
            .collect(Collectors.joining("&"));
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(URI.create(base + path + (q.isEmpty() ? "" : "?" + q)))
            .method(method, HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      builder.header("Authorization", "Bearer " + token);
    }
    HttpRequest request = builder.build();
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    } catch (java.net.ConnectException e) {
      throw new IOException("cannot reach the admin port at " + base + " (is transship running?)");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
  }

  /** The message of an OCI error body, or the status. */
  static String errorOf(HttpResponse<InputStream> response) throws IOException {
    String body = new String(response.body().readAllBytes(), StandardCharsets.UTF_8);
    int at = body.indexOf("\"message\":\"");
    if (at >= 0) {
      int end = body.indexOf('"', at + 11);
      return body.substring(at + 11, end);
    }
    return "admin port answered " + response.statusCode();
  }
}
