package io.transship.storage.s3;

import io.transship.storage.StorageKeys;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;

/**
 * Where and how {@link S3ObjectStore} keeps objects.
 *
 * @param bucket the bucket, which must exist
 * @param prefix prepended to every key, so several stores (or other data) can share a bucket; may
 *     be empty; normalized to end with {@code /} when not empty, and must otherwise be a valid key
 *     ({@link StorageKeys#validate})
 * @param region the signing region; null for the SDK's default region chain ({@code AWS_REGION},
 *     profile, instance metadata), or {@code us-east-1} when {@code endpoint} is set
 * @param endpoint an S3-compatible endpoint (MinIO, Ceph, S3Proxy, ...); null for AWS S3
 * @param pathStyle address the bucket in the path ({@code http://host/bucket/key}) rather than the
 *     host name; most S3-compatible servers need it
 * @param accessKeyId static credentials, together with {@code secretAccessKey}; both null for the
 *     SDK's default credentials chain (system properties, environment, web identity token as on EKS
 *     with IRSA, profile, container credentials as on ECS or EKS Pod Identity, instance profile)
 * @param secretAccessKey see {@code accessKeyId}; never printed
 * @param partSize bytes per part of multipart uploads, and the memory one writer buffers; 0 for
 *     {@link #DEFAULT_PART_SIZE}; at least {@link #MIN_PART_SIZE} (S3's minimum), at most {@link
 *     #MAX_PART_SIZE}
 * @param presignExpiry how long presigned URLs stay valid when the caller does not say; null for
 *     {@link #DEFAULT_PRESIGN_EXPIRY}; positive and at most 7 days (SigV4's limit)
 */
public record S3Config(
    String bucket,
    String prefix,
    String region,
    URI endpoint,
    boolean pathStyle,
    String accessKeyId,
    String secretAccessKey,
    long partSize,
    Duration presignExpiry) {

  /** 16 MiB: objects up to 160 GB within S3's 10,000 parts. */
  public static final long DEFAULT_PART_SIZE = 16L * 1024 * 1024;

  /** 5 MiB, the smallest part S3 accepts (except for the last one). */
  public static final long MIN_PART_SIZE = 5L * 1024 * 1024;

  /** 1 GiB: a part is buffered in one array. */
  public static final long MAX_PART_SIZE = 1L << 30;

  public static final Duration DEFAULT_PRESIGN_EXPIRY = Duration.ofMinutes(15);

  /** SigV4 presigned URLs are valid for at most 7 days. */
  public static final Duration MAX_PRESIGN_EXPIRY = Duration.ofDays(7);

  public S3Config {
    if (bucket == null || bucket.isBlank()) {
      throw new IllegalArgumentException("S3 bucket must be set");
    }
    prefix = normalizePrefix(prefix);
    if (region != null && region.isBlank()) {
      region = null;
    }
    if (endpoint != null && (endpoint.getScheme() == null || endpoint.getHost() == null)) {
      throw new IllegalArgumentException(
          "S3 endpoint must be an absolute http(s) URI, not " + endpoint);
    }
    if (accessKeyId != null && accessKeyId.isBlank()) {
      accessKeyId = null;
    }
    if (secretAccessKey != null && secretAccessKey.isEmpty()) {
      secretAccessKey = null;
    }
    if ((accessKeyId == null) != (secretAccessKey == null)) {
      throw new IllegalArgumentException(
          "S3 access key id and secret access key must be set together (or neither, for the"
              + " default credentials chain)");
    }
    if (partSize == 0) {
      partSize = DEFAULT_PART_SIZE;
    }
    if (partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
      throw new IllegalArgumentException(
          "S3 part size must be between "
              + MIN_PART_SIZE
              + " and "
              + MAX_PART_SIZE
              + " bytes, not "
              + partSize);
    }
    presignExpiry = checkExpiry(presignExpiry == null ? DEFAULT_PRESIGN_EXPIRY : presignExpiry);
  }

  /** AWS S3 in {@code region} (null: the default region chain), default credentials chain. */
  public static S3Config aws(String bucket, String prefix, String region) {
    return new S3Config(bucket, prefix, region, null, false, null, null, 0, null);
  }

  /** The same with another key prefix. */
  public S3Config withPrefix(String newPrefix) {
    return new S3Config(
        bucket,
        newPrefix,
        region,
        endpoint,
        pathStyle,
        accessKeyId,
        secretAccessKey,
        partSize,
        presignExpiry);
  }

  /** The same with another part size. */
  public S3Config withPartSize(long newPartSize) {
    return new S3Config(
        bucket,
        prefix,
        region,
        endpoint,
        pathStyle,
        accessKeyId,
        secretAccessKey,
        newPartSize,
        presignExpiry);
  }

  /** Whether static credentials are configured (otherwise the default chain is used). */
  public boolean hasStaticCredentials() {
    return accessKeyId != null;
  }

  /** {@code s3://bucket/prefix}, for messages. */
  public String location() {
    return "s3://" + bucket + "/" + prefix;
  }

  @Override
  public String toString() {
    return "S3Config[bucket="
        + bucket
        + ", prefix="
        + prefix
        + ", region="
        + (region == null ? "(default)" : region)
        + ", endpoint="
        + (endpoint == null ? "(AWS)" : endpoint)
        + ", pathStyle="
        + pathStyle
        + ", credentials="
        + (hasStaticCredentials() ? "static" : "default chain")
        + ", partSize="
        + partSize
        + ", presignExpiry="
        + presignExpiry
        + "]";
  }

  static Duration checkExpiry(Duration expiry) {
    Objects.requireNonNull(expiry, "expiry");
    if (expiry.isNegative() || expiry.isZero() || expiry.compareTo(MAX_PRESIGN_EXPIRY) > 0) {
      throw new IllegalArgumentException(
          "presigned URL expiry must be positive and at most 7 days, not " + expiry);
    }
    return expiry;
  }

  private static String normalizePrefix(String prefix) {
    if (prefix == null) {
      return "";
    }
    String p = prefix;
    while (p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    if (p.isEmpty()) {
      if (!prefix.isEmpty()) {
        throw new IllegalArgumentException("S3 key prefix must not be only slashes: " + prefix);
      }
      return "";
    }
    try {
      StorageKeys.validate(p);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("bad S3 key prefix: " + e.getMessage(), e);
    }
    return p + "/";
  }
}
