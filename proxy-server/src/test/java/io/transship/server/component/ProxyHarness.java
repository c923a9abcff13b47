package io.transship.server.component;

import io.transship.server.Transship;
import io.transship.server.config.ConversionConfig;
import io.transship.server.config.HostPort;
import io.transship.server.config.TransshipConfig;
import io.transship.server.config.UpstreamConfig;
import io.transship.server.testing.FakeUpstream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A real transship (Netty, filesystem store) in front of a {@link FakeUpstream}, for tests. */
final class ProxyHarness implements AutoCloseable {
  final FakeUpstream upstream;
  final Transship proxy;
  final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private ProxyHarness(FakeUpstream upstream, Transship proxy) {
    this.upstream = upstream;
    this.proxy = proxy;
  }

  static ProxyHarness start(TransshipConfig config, FakeUpstream upstream) throws Exception {
    return new ProxyHarness(upstream, Transship.start(config));
  }

  static ProxyHarness start(FakeUpstream upstream, Path root, Duration tagTtl) throws Exception {
    return new ProxyHarness(upstream, Transship.start(config(upstream, root, tagTtl, null, null)));
  }

  static ProxyHarness start(
      FakeUpstream upstream, Path root, Duration tagTtl, String user, String password)
      throws Exception {
    return new ProxyHarness(
        upstream, Transship.start(config(upstream, root, tagTtl, user, password)));
  }

  static TransshipConfig config(
      FakeUpstream upstream, Path root, Duration tagTtl, String user, String password) {
    return config(upstream, root, tagTtl, user, password, "none", ConversionConfig.defaults());
  }

  static TransshipConfig config(
      FakeUpstream upstream,
      Path root,
      Duration tagTtl,
      String user,
      String password,
      String format,
      ConversionConfig conversion) {
    return config(upstream, root, 0, tagTtl, user, password, format, conversion);
  }

  static TransshipConfig config(
      FakeUpstream upstream,
      Path root,
      long maxBytes,
      Duration tagTtl,
      String user,
      String password,
      String format,
      ConversionConfig conversion) {
    UpstreamConfig fake =
        new UpstreamConfig(
            "fake",
            URI.create(upstream.url()),
            List.of("fake", upstream.hostPort()),
            false,
            user,
            password,
            false,
            null,
            Duration.ofSeconds(2),
            Duration.ofSeconds(10),
            Duration.ofSeconds(5),
            3,
            format);
    return new TransshipConfig(
        new HostPort("127.0.0.1", 0),
        new HostPort("127.0.0.1", 0),
        new TransshipConfig.StorageConfig(root, maxBytes),
        tagTtl,
        "fake",
        Map.of("fake", fake),
        conversion);
  }

  String base() {
    return "http://127.0.0.1:" + proxy.port();
  }

  HttpResponse<byte[]> get(String path, String... headers) throws IOException {
    return send("GET", path, headers);
  }

  HttpResponse<byte[]> head(String path, String... headers) throws IOException {
    return send("HEAD", path, headers);
  }

  HttpResponse<byte[]> send(String method, String path, String... headers) throws IOException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base() + path))
            .timeout(Duration.ofSeconds(30))
            .method(method, HttpRequest.BodyPublishers.noBody());
    if (headers.length > 0) {
      request.headers(headers);
    }
    try {
      return client.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  String admin(String path) throws IOException {
    try {
      return client
          .send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.adminPort() + path))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  @Override
  public void close() throws IOException {
    proxy.close();
  }
}
