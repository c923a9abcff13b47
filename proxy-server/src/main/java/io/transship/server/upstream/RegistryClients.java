package io.transship.server.upstream;

import io.transship.server.config.UpstreamConfig;
import java.io.IOException;
import java.net.http.HttpClient;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

/** Builds and holds one {@link RegistryClient} per configured upstream. */
public final class RegistryClients {
  private final Map<String, RegistryClient> byAlias = new HashMap<>();

  public RegistryClients(
      Map<String, UpstreamConfig> upstreams, RegistryClient.UpstreamObserver observer, Clock clock)
      throws IOException {
    for (UpstreamConfig upstream : upstreams.values()) {
      HttpClient.Builder builder =
          HttpClient.newBuilder()
              .connectTimeout(upstream.connectTimeout())
              .followRedirects(HttpClient.Redirect.NEVER);
      if ("https".equals(upstream.url().getScheme())) {
        builder.sslContext(TlsTrust.context(upstream.caFile(), upstream.insecureSkipVerify()));
      } else {
        builder.version(HttpClient.Version.HTTP_1_1); // no h2c upgrade dance with plain registries
      }
      HttpClient http = builder.build();
      UpstreamAuth auth =
          new UpstreamAuth(
              upstream.username(), upstream.password(), http, upstream.responseTimeout(), clock);
      byAlias.put(
          upstream.alias(),
          new RegistryClient(
              upstream,
              http,
              auth,
              RetryPolicy.of(upstream.maxAttempts()),
              observer,
              duration -> Thread.sleep(duration)));
    }
  }

  public RegistryClient forAlias(String alias) {
    RegistryClient client = byAlias.get(alias);
    if (client == null) {
      throw new IllegalArgumentException("no upstream " + alias);
    }
    return client;
  }
}
