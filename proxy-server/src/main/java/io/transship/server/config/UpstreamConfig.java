package io.transship.server.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One upstream registry.
 *
 * @param alias the name used as path prefix ({@code /v2/<alias>/<repository>/...})
 * @param url base URL ({@code https://registry-1.docker.io}); {@code http://} for plain HTTP
 * @param hosts registry host names that select this upstream in containerd's {@code ?ns=}
 * @param libraryPrefix whether single-component names get {@code library/} (Docker Hub)
 * @param username Basic credentials sent upstream (or to its token realm), may be null
 * @param password the password for {@code username}, may be null
 * @param insecureSkipVerify accept any TLS certificate (only for local test registries)
 * @param caFile extra PEM CA certificates trusted in addition to the system store, may be null
 * @param connectTimeout TCP + TLS connect timeout
 * @param responseTimeout time to wait for response headers
 * @param bodyIdleTimeout a body that delivers no byte for this long is aborted
 * @param maxAttempts attempts per request on connection errors, 5xx and 429 (1 = no retry)
 * @param format the layer format clients get by default: {@code zstd} or {@code none}
 */
public record UpstreamConfig(
    String alias,
    URI url,
    List<String> hosts,
    boolean libraryPrefix,
    String username,
    String password,
    boolean insecureSkipVerify,
    Path caFile,
    Duration connectTimeout,
    Duration responseTimeout,
    Duration bodyIdleTimeout,
    int maxAttempts,
    String format) {

  public UpstreamConfig {
    hosts = List.copyOf(hosts);
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("upstreams." + alias + ".max-attempts must be >= 1");
    }
  }

  public boolean hasCredentials() {
    return username != null && !username.isEmpty();
  }

  /** Safe for logs: no credentials. */
  @Override
  public String toString() {
    return "Upstream[" + alias + " " + url + (hasCredentials() ? " (with credentials)" : "") + "]";
  }
}
