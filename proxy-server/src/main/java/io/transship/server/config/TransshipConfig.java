package io.transship.server.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The whole configuration, bound and validated by {@link ConfigLoader}.
 *
 * @param listen where the registry API listens
 * @param adminListen where {@code /metrics}, {@code /healthz} and {@code /readyz} listen
 * @param storage local storage of blobs, manifests and tag records
 * @param tagTtl how long a tag's digest is trusted before it is revalidated upstream with a HEAD
 * @param defaultUpstream the upstream for requests with neither a path prefix nor {@code ?ns=}
 * @param upstreams configured upstream registries by alias; nothing else is reachable
 * @param conversion how layers are converted
 */
public record TransshipConfig(
    HostPort listen,
    HostPort adminListen,
    StorageConfig storage,
    Duration tagTtl,
    String defaultUpstream,
    Map<String, UpstreamConfig> upstreams,
    ConversionConfig conversion) {

  public TransshipConfig {
    upstreams = Map.copyOf(upstreams);
    if (defaultUpstream != null && !defaultUpstream.isEmpty()) {
      if (!upstreams.containsKey(defaultUpstream)) {
        throw new IllegalArgumentException(
            "default-upstream '"
                + defaultUpstream
                + "' is not among upstreams "
                + upstreams.keySet());
      }
    }
  }

  /** Filesystem storage. {@code maxBytes <= 0} means unbounded. */
  public record StorageConfig(Path root, long maxBytes) {}
}
