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
 * @param connections what one client connection may cost, on both listeners
 * @param maxBlobBytes the largest blob downloaded from an upstream; a bigger one (announced or
 *     sent) is refused and nothing is stored
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
    ServerLimits connections,
    long maxBlobBytes,
    EdgeConfig edge,
    Duration drainTimeout) {

  /** The default drain time ({@code server.drain-timeout}). */
  public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);

  /** Everything but the drain time, which is the default. */
  public TransshipConfig(
      HostPort listen,
      HostPort adminListen,
      StorageConfig storage,
      Duration tagTtl,
      String defaultUpstream,
      Map<String, UpstreamConfig> upstreams,
      ConversionConfig conversion,
      ServerLimits connections,
      long maxBlobBytes,
      EdgeConfig edge) {
    this(
        listen,
        adminListen,
        storage,
        tagTtl,
        defaultUpstream,
        upstreams,
        conversion,
        connections,
        maxBlobBytes,
        edge,
        DEFAULT_DRAIN_TIMEOUT);
  }

  /** Open (no TLS, no authentication), with the default connection limits and blob size bound. */
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
        ServerLimits.defaults(),
        DEFAULT_MAX_BLOB_BYTES,
        EdgeConfig.OPEN);
  }

  /** With TLS and client authentication as {@code edge} says, default limits. */
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
        ServerLimits.defaults(),
        DEFAULT_MAX_BLOB_BYTES,
        edge);
  }

  /** Open (no TLS, no authentication), with these limits. */
  public TransshipConfig(
      HostPort listen,
      HostPort adminListen,
      StorageConfig storage,
      Duration tagTtl,
      String defaultUpstream,
      Map<String, UpstreamConfig> upstreams,
      ConversionConfig conversion,
      ServerLimits connections,
      long maxBlobBytes) {
    this(
        listen,
        adminListen,
        storage,
        tagTtl,
        defaultUpstream,
        upstreams,
        conversion,
        connections,
        maxBlobBytes,
        EdgeConfig.OPEN);
  }

  /** {@code cache.max-blob-bytes} of the embedded defaults. */
  public static final long DEFAULT_MAX_BLOB_BYTES = 64L << 30;

  public TransshipConfig {
    if (maxBlobBytes < 1) {
      throw new IllegalArgumentException("cache.max-blob-bytes must be positive");
    }
    edge = edge == null ? EdgeConfig.OPEN : edge;
    drainTimeout = drainTimeout == null ? DEFAULT_DRAIN_TIMEOUT : drainTimeout;
    if (listen == null && edge.tls() == null) {
      throw new IllegalArgumentException(
          "listen is empty and no TLS listener is configured: nothing would listen");
    }
    // config order is kept: it is the order of the start line and of `config check`
    upstreams = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(upstreams));
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
