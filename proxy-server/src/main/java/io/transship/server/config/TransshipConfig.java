package io.transship.server.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The whole configuration, bound and validated by {@link ConfigLoader}.
 *
 * @param listen where the registry API listens on plain HTTP; null when disabled
 * @param adminListen where {@code /metrics}, {@code /healthz} and {@code /readyz} listen
 * @param storage local storage of blobs, manifests and tag records
 * @param tagTtl how long a tag's digest is trusted before it is revalidated upstream with a HEAD
 * @param defaultUpstream the upstream for requests with neither a path prefix nor {@code ?ns=}
 * @param upstreams configured upstream registries by alias; nothing else is reachable
 * @param conversion how layers are converted
 * @param edge TLS, client authentication, access rules, admin token, trusted proxies
 * @param drainTimeout on SIGTERM, how long in-flight requests and conversions get to finish
 */
public record TransshipConfig(
    HostPort listen,
    HostPort adminListen,
    StorageConfig storage,
    Duration tagTtl,
    String defaultUpstream,
    Map<String, UpstreamConfig> upstreams,
    ConversionConfig conversion,
    EdgeConfig edge,
    Duration drainTimeout) {

  /** The default drain time ({@code server.drain-timeout}). */
  public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);

  /** With the default drain time. */
  public TransshipConfig(
      HostPort listen,
      HostPort adminListen,
      StorageConfig storage,
      Duration tagTtl,
      String defaultUpstream,
      Map<String, UpstreamConfig> upstreams,
      ConversionConfig conversion,
      EdgeConfig edge) {
    this(
        listen,
        adminListen,
        storage,
        tagTtl,
        defaultUpstream,
        upstreams,
        conversion,
        edge,
        DEFAULT_DRAIN_TIMEOUT);
  }

  /** Without TLS or authentication: plain HTTP, open to whoever reaches it. */
  public TransshipConfig(
      HostPort listen,
      HostPort adminListen,
      StorageConfig storage,
      Duration tagTtl,
      String defaultUpstream,
      Map<String, UpstreamConfig> upstreams,
      ConversionConfig conversion) {
    this(
        listen,
        adminListen,
        storage,
        tagTtl,
        defaultUpstream,
        upstreams,
        conversion,
        EdgeConfig.OPEN);
  }

  public TransshipConfig {
    edge = edge == null ? EdgeConfig.OPEN : edge;
    drainTimeout = drainTimeout == null ? DEFAULT_DRAIN_TIMEOUT : drainTimeout;
    if (listen == null && edge.tls() == null) {
      throw new IllegalArgumentException(
          "listen is empty and no TLS listener is configured: nothing would listen");
    }
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

  /**
   * Storage: the filesystem store, or with {@code s3} set, S3 as the shared store and the
   * filesystem root as its local disk cache. {@code maxBytes <= 0} means unbounded.
   */
  public record StorageConfig(Path root, long maxBytes, S3Settings s3) {
    public StorageConfig(Path root, long maxBytes) {
      this(root, maxBytes, null);
    }
  }

  /**
   * S3 storage.
   *
   * @param endpoint an S3-compatible endpoint, or null for AWS
   * @param accessKeyId static credentials, or null for the default chain (environment, profile, web
   *     identity / IRSA, ECS task role)
   * @param presign answer blob GETs with a 307 to a presigned URL
   */
  public record S3Settings(
      String bucket,
      String prefix,
      String region,
      java.net.URI endpoint,
      boolean pathStyle,
      String accessKeyId,
      String secretAccessKey,
      long partSize,
      boolean presign,
      Duration presignExpiry) {
    @Override
    public String toString() {
      return "s3://" + bucket + "/" + prefix + (endpoint == null ? "" : " at " + endpoint);
    }
  }
}
