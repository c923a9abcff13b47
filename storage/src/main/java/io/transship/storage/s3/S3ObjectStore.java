package io.transship.storage.s3;

import io.transship.oci.ByteRange;
import io.transship.storage.NoSuchObjectException;
import io.transship.storage.ObjectInfo;
import io.transship.storage.ObjectStore;
import io.transship.storage.ObjectWriter;
import io.transship.storage.Presigning;
import io.transship.storage.StorageKeys;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsRequest;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * An {@link ObjectStore} in an S3 bucket (AWS or S3-compatible), each key stored as object {@code
 * <prefix><key>}. Thread-safe; one HTTP connection pool per store.
 *
 * <p><b>Writes.</b> A writer buffers at most one part ({@link S3Config#partSize()}) in memory. An
 * object that fits in one part is sent with a single {@code PutObject} at commit. A larger one
 * becomes a multipart upload, started when the first part is full; every full part is uploaded as
 * the next bytes arrive, and commit uploads the last part and completes the upload. S3 makes an
 * object visible only when its {@code PutObject} or {@code CompleteMultipartUpload} succeeds, and
 * then whole, replacing any previous object atomically; abort sends {@code AbortMultipartUpload}. A
 * process that dies mid-upload leaves an incomplete multipart upload that is never visible as an
 * object but is billed until aborted: give the bucket a lifecycle rule {@code
 * AbortIncompleteMultipartUpload}, or call {@link #abortIncompleteUploads} at startup.
 *
 * <p><b>Reads.</b> {@link #open} is one {@code GetObject} (with a {@code Range} header for a
 * range), streamed; a stream closed before its end aborts its connection rather than draining the
 * rest of the object.
 *
 * <p><b>Integrity.</b> The SDK's optional CRC checksums are sent and checked only where S3 requires
 * them, which keeps S3-compatible servers that do not know them working; content integrity in
 * transship is end to end, by digest (blobs are verified before commit, and clients verify what
 * they fetch).
 *
 * <p>SDK failures become {@link IOException}s naming the operation, the object and S3's error code.
 */
public final class S3ObjectStore implements ObjectStore, Presigning {

  private static final Logger log = LoggerFactory.getLogger(S3ObjectStore.class);

  /** S3 allows at most 10,000 parts per multipart upload. */
  static final int MAX_PARTS = 10_000;

  /** Upper bound of concurrent HTTP connections; every open read stream holds one. */
  static final int MAX_CONNECTIONS = 256;

  private static final String CONTENT_TYPE = "application/octet-stream";
  private static final int INITIAL_BUFFER = 64 * 1024;

  private final S3Config config;
  private final String bucket;
  private final String prefix;
  private final int partSize;
  private final S3Client s3;
  private final boolean ownsClient;
  private final SdkAutoCloseable ownedCredentials;
  private final S3Presigner presigner;

  /**
   * A store with its own S3 client and connection pool, configured by {@code config}. Makes no
   * request; see {@link #checkBucket()}.
   *
   * @throws IllegalArgumentException when the SDK refuses the configuration (for example when no
   *     region is configured and the default region chain finds none)
   */
  public S3ObjectStore(S3Config config) {
    this(config, null);
  }

  /**
   * A store on a client the caller configured and keeps owning ({@link #close()} leaves it open);
   * of {@code config}, bucket, prefix and part size apply to requests, and the whole of it to
   * presigned URLs (which need region, endpoint, addressing style and credentials of their own).
   */
  public S3ObjectStore(S3Client client, S3Config config) {
    this(config, Objects.requireNonNull(client, "client"));
  }

  private S3ObjectStore(S3Config config, S3Client client) {
    Objects.requireNonNull(config, "config");
    AwsCredentialsProvider credentials = credentials(config);
    S3Client s3Client = client;
    S3Presigner s3Presigner;
    try {
      if (s3Client == null) {
        s3Client = buildClient(config, credentials);
      }
      s3Presigner = buildPresigner(config, credentials);
    } catch (SdkException | IllegalArgumentException e) {
      if (client == null && s3Client != null) {
        s3Client.close();
      }
      closeQuietly(credentials);
      throw new IllegalArgumentException(
          "cannot create the S3 client for " + config.location() + ": " + firstLine(e), e);
    }
    this.config = config;
    this.bucket = config.bucket();
    this.prefix = config.prefix();
    this.partSize = Math.toIntExact(config.partSize());
    this.s3 = s3Client;
    this.ownsClient = client == null;
    this.ownedCredentials = credentials instanceof SdkAutoCloseable c ? c : null;
    this.presigner = s3Presigner;
  }

  /** The configuration. */
  public S3Config config() {
    return config;
  }

  /**
   * Checks that the bucket exists and these credentials may use it ({@code HeadBucket}), so that a
   * misconfiguration fails at startup rather than at the first request.
   */
  public void checkBucket() throws IOException {
    try {
      s3.headBucket(b -> b.bucket(bucket));
    } catch (SdkException e) {
      if (status(e) == 404) {
        throw new IOException("S3 bucket " + bucket + " does not exist", e);
      }
      throw failure("HeadBucket", "s3://" + bucket, e);
    }
  }

  // ---- ObjectStore ----

  @Override
  public Optional<ObjectInfo> stat(String key) throws IOException {
    String objectKey = objectKey(key);
    try {
      HeadObjectResponse head = s3.headObject(b -> b.bucket(bucket).key(objectKey));
      return Optional.of(new ObjectInfo(key, head.contentLength(), head.lastModified()));
    } catch (SdkException e) {
      if (status(e) == 404) {
        return Optional.empty();
      }
      throw failure("HeadObject", objectKey, e);
    }
  }

  @Override
  public InputStream open(String key, ByteRange range) throws IOException {
    String objectKey = objectKey(key);
    GetObjectRequest.Builder request = GetObjectRequest.builder().bucket(bucket).key(objectKey);
    if (range != null) {
      request.range("bytes=" + range.first() + "-" + range.last());
    }
    ResponseInputStream<GetObjectResponse> in;
    try {
      in = s3.getObject(request.build());
    } catch (SdkException e) {
      int status = status(e);
      if (status == 404 && !"NoSuchBucket".equals(errorCode(e))) {
        throw new NoSuchObjectException(key);
      }
      if (status == 416) {
        throw new IOException("range " + range + " not satisfiable for " + key);
      }
      throw failure("GetObject", objectKey, e);
    }
    Long length = in.response().contentLength();
    S3InputStream stream = new S3InputStream(in, length == null ? -1 : length, objectKey);
    if (range != null && in.response().contentRange() == null && range.first() > 0) {
      // a server that ignored the Range header sent the whole object: cut the range out ourselves
      try {
        stream.skipNBytes(range.first());
      } catch (IOException e) {
        stream.close();
        throw new IOException("range " + range + " not satisfiable for " + key, e);
      }
    }
    if (range != null && in.response().contentRange() == null) {
      return new LimitedInputStream(stream, range.length());
    }
    return stream;
  }

  @Override
  public ObjectWriter newWriter(String key) {
    return new Writer(key, objectKey(key));
  }

  /**
   * Uploads {@code file} ({@code PutObject} up to one part size, a multipart upload beyond, parts
   * read straight from the file) and deletes it, also on failure.
   */
  @Override
  public void putFile(String key, Path file) throws IOException {
    String objectKey = objectKey(key);
    try {
      long size = Files.size(file);
      if (size <= partSize) {
        try {
          s3.putObject(
              b -> b.bucket(bucket).key(objectKey).contentType(CONTENT_TYPE).contentLength(size),
              RequestBody.fromFile(file));
        } catch (SdkException e) {
          throw failure("PutObject", objectKey, e);
        }
      } else {
        uploadFile(objectKey, file, size);
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }

  /**
   * Deletes {@code key}; returns whether it existed. S3's {@code DeleteObject} does not say, so
   * this asks first ({@code HeadObject}); the answer can be stale if another writer races.
   */
  @Override
  public boolean delete(String key) throws IOException {
    String objectKey = objectKey(key);
    if (stat(key).isEmpty()) {
      return false;
    }
    try {
      s3.deleteObject(b -> b.bucket(bucket).key(objectKey));
      return true;
    } catch (SdkException e) {
      throw failure("DeleteObject", objectKey, e);
    }
  }

  /**
   * Lists with {@code ListObjectsV2}, page by page. Objects under the store's prefix whose rest is
   * not a valid key (written by something else) are left out.
   */
  @Override
  public List<ObjectInfo> list(String listPrefix) throws IOException {
    StorageKeys.validatePrefix(listPrefix);
    String full = prefix + listPrefix;
    ListObjectsV2Request.Builder request = ListObjectsV2Request.builder().bucket(bucket);
    if (!full.isEmpty()) {
      request.prefix(full);
    }
    List<ObjectInfo> found = new ArrayList<>();
    try {
      for (S3Object object : s3.listObjectsV2Paginator(request.build()).contents()) {
        String key = object.key();
        if (key.startsWith(full)) {
          String storeKey = key.substring(prefix.length());
          if (isValidKey(storeKey)) {
            found.add(new ObjectInfo(storeKey, object.size(), object.lastModified()));
          }
        }
      }
    } catch (SdkException e) {
      throw failure("ListObjectsV2", full.isEmpty() ? "" : full, e);
    }
    found.sort(Comparator.comparing(ObjectInfo::key));
    return found;
  }

  @Override
  public void close() {
    presigner.close();
    if (ownsClient) {
      s3.close();
    }
    if (ownedCredentials != null) {
      closeQuietly(ownedCredentials);
    }
  }

  // ---- beyond the SPI ----

  /**
   * Stores {@code bytes} under {@code key} only if no object exists there ({@code PutObject} with
   * {@code If-None-Match: *}, atomic in S3). Returns false when one already existed, whatever its
   * content.
   */
  public boolean putIfAbsent(String key, byte[] bytes) throws IOException {
    String objectKey = objectKey(key);
    for (int attempt = 1; ; attempt++) {
      try {
        s3.putObject(
            b ->
                b.bucket(bucket)
                    .key(objectKey)
                    .contentType(CONTENT_TYPE)
                    .contentLength((long) bytes.length)
                    .ifNoneMatch("*"),
            RequestBody.fromBytes(bytes));
        return true;
      } catch (SdkException e) {
        int status = status(e);
        if (status == 412) {
          return false;
        }
        // 409 ConditionalRequestConflict: a concurrent conditional write to the key; S3 says retry
        if (status != 409 || attempt >= 3) {
          throw failure("PutObject (If-None-Match)", objectKey, e);
        }
      }
    }
  }

  /**
   * A presigned {@code GET} URL for {@code key}, valid for {@code expiry} (null: {@link
   * S3Config#presignExpiry()}). Does not check that the object exists.
   *
   * @throws IOException when the request cannot be signed (no credentials could be resolved)
   * @throws IllegalArgumentException for an invalid key, or an expiry not within (0, 7 days]
   */
  public URI presign(String key, Duration expiry) throws IOException {
    String objectKey = objectKey(key);
    Duration duration = S3Config.checkExpiry(expiry == null ? config.presignExpiry() : expiry);
    try {
      return presigner
          .presignGetObject(p ->
              p.signatureDuration(duration).getObjectRequest(g -> g.bucket(bucket).key(objectKey)))
          .url()
          .toURI();
    } catch (SdkException e) {
      throw failure("presigning GetObject", objectKey, e);
    } catch (URISyntaxException e) {
      throw new IOException("S3 presigned URL for " + objectKey + " is not a URI", e);
    }
  }

  /** {@link #presign}, or empty (and a warning logged) when signing fails. */
  @Override
  public Optional<URI> presignGet(String key, Duration expiry) {
    try {
      return Optional.of(presign(key, expiry));
    } catch (IOException e) {
      log.warn("{}; serving {} without a presigned URL", e.getMessage(), key);
      return Optional.empty();
    }
  }

  /**
   * Aborts the incomplete multipart uploads under this store's prefix that were started before
   * {@code initiatedBefore} (writers of a process that died, for example); returns how many. Pass a
   * time well in the past (an hour ago, say) while other processes may be writing to the prefix.
   */
  public int abortIncompleteUploads(Instant initiatedBefore) throws IOException {
    ListMultipartUploadsRequest.Builder request =
        ListMultipartUploadsRequest.builder().bucket(bucket);
    if (!prefix.isEmpty()) {
      request.prefix(prefix);
    }
    int aborted = 0;
    try {
      for (MultipartUpload upload : s3.listMultipartUploadsPaginator(request.build()).uploads()) {
        if (upload.key().startsWith(prefix)
            && upload.initiated() != null
            && upload.initiated().isBefore(initiatedBefore)) {
          if (abortUpload(upload.key(), upload.uploadId())) {
            aborted++;
          }
        }
      }
    } catch (SdkException e) {
      throw failure("ListMultipartUploads", prefix, e);
    }
    return aborted;
  }

  // ---- internals ----

  private String objectKey(String key) {
    return prefix + StorageKeys.validate(key);
  }

  private String where(String objectKey) {
    return "s3://" + bucket + "/" + objectKey;
  }

  private static boolean isValidKey(String key) {
    try {
      StorageKeys.validate(key);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** Aborts a multipart upload, logging instead of failing; true if S3 accepted the abort. */
  private boolean abortUpload(String objectKey, String uploadId) {
    try {
      s3.abortMultipartUpload(b -> b.bucket(bucket).key(objectKey).uploadId(uploadId));
      return true;
    } catch (SdkException e) {
      if (status(e) == 404) {
        return false; // already completed or aborted
      }
      log.warn(
          "could not abort the multipart upload {} of {} ({}); a bucket lifecycle rule or"
              + " abortIncompleteUploads will remove it",
          uploadId,
          where(objectKey),
          describe(e));
      return false;
    }
  }

  private void uploadFile(String objectKey, Path file, long size) throws IOException {
    // within S3's 10,000 parts whatever the file's size
    long filePartSize = Math.max(partSize, (size + MAX_PARTS - 1) / MAX_PARTS);
    String uploadId;
    try {
      uploadId =
          s3.createMultipartUpload(b -> b.bucket(bucket).key(objectKey).contentType(CONTENT_TYPE))
              .uploadId();
    } catch (SdkException e) {
      throw failure("CreateMultipartUpload", objectKey, e);
    }
    boolean completed = false;
    try {
      List<CompletedPart> parts = new ArrayList<>();
      for (long offset = 0; offset < size; offset += filePartSize) {
        long length = Math.min(filePartSize, size - offset);
        int number = parts.size() + 1;
        try (FileSlices slices = new FileSlices(file, offset, length)) {
          UploadPartResponse response =
              s3.uploadPart(
                  b ->
                      b.bucket(bucket)
                          .key(objectKey)
                          .uploadId(uploadId)
                          .partNumber(number)
                          .contentLength(length),
                  RequestBody.fromContentProvider(slices, length, CONTENT_TYPE));
          parts.add(completedPart(number, response));
        } catch (SdkException e) {
          throw failure("UploadPart " + number, objectKey, e);
        }
      }
      try {
        s3.completeMultipartUpload(b ->
            b.bucket(bucket)
                .key(objectKey)
                .uploadId(uploadId)
                .multipartUpload(m -> m.parts(parts)));
      } catch (SdkException e) {
        throw failure("CompleteMultipartUpload", objectKey, e);
      }
      completed = true;
    } finally {
      if (!completed) {
        abortUpload(objectKey, uploadId);
      }
    }
  }

  private static CompletedPart completedPart(int number, UploadPartResponse response) {
    // a checksum S3 computed for a part must be repeated at completion
    return CompletedPart.builder()
        .partNumber(number)
        .eTag(response.eTag())
        .checksumCRC32(response.checksumCRC32())
        .checksumCRC32C(response.checksumCRC32C())
        .checksumCRC64NVME(response.checksumCRC64NVME())
        .checksumSHA1(response.checksumSHA1())
        .checksumSHA256(response.checksumSHA256())
        .build();
  }

  private IOException failure(String operation, String objectKey, SdkException e) {
    return new IOException(
        "S3 " + operation + " of " + where(objectKey) + " failed: " + describe(e), e);
  }

  /** S3's status, error code and message, or the client-side failure; one line, no stack. */
  static String describe(SdkException e) {
    if (e instanceof AwsServiceException service) {
      AwsErrorDetails details = service.awsErrorDetails();
      StringBuilder text = new StringBuilder("HTTP ").append(service.statusCode());
      if (details != null && details.errorCode() != null) {
        text.append(' ').append(details.errorCode());
      }
      if (details != null && details.errorMessage() != null) {
        text.append(": ").append(firstLine(details.errorMessage()));
      }
      return text.toString();
    }
    String message = e.getMessage();
    if (message != null && message.startsWith(NO_CREDENTIALS)) {
      // the SDK lists every provider of its chain and why each failed: log that once, then short
      if (CREDENTIAL_CHAIN_LOGGED.compareAndSet(false, true)) {
        log.warn("S3 credentials: {} (logged once)", firstLine(message));
      }
      return "no AWS credentials found by the default chain (set storage.s3.access-key-id and"
          + " secret-access-key, AWS_* variables, a profile or a role)";
    }
    return firstLine(e);
  }

  private static final String NO_CREDENTIALS =
      "Unable to load credentials from any of the providers";
  private static final java.util.concurrent.atomic.AtomicBoolean CREDENTIAL_CHAIN_LOGGED =
      new java.util.concurrent.atomic.AtomicBoolean();

  private static String firstLine(Throwable e) {
    String message = e.getMessage();
    return message == null ? e.getClass().getSimpleName() : firstLine(message);
  }

  private static String firstLine(String text) {
    int newline = text.indexOf('\n');
    return (newline < 0 ? text : text.substring(0, newline)).strip();
  }

  private static int status(SdkException e) {
    return e instanceof AwsServiceException service ? service.statusCode() : -1;
  }

  private static String errorCode(SdkException e) {
    return e instanceof AwsServiceException service && service.awsErrorDetails() != null
        ? service.awsErrorDetails().errorCode()
        : null;
  }

  private static AwsCredentialsProvider credentials(S3Config config) {
    if (config.hasStaticCredentials()) {
      return StaticCredentialsProvider.create(
          AwsBasicCredentials.create(config.accessKeyId(), config.secretAccessKey()));
    }
    return DefaultCredentialsProvider.builder().build();
  }

  private static S3Client buildClient(S3Config config, AwsCredentialsProvider credentials) {
    S3ClientBuilder builder =
        S3Client.builder()
            .httpClientBuilder(
                Apache5HttpClient.builder()
                    .maxConnections(MAX_CONNECTIONS)
                    .connectionTimeout(Duration.ofSeconds(10))
                    .connectionAcquisitionTimeout(Duration.ofSeconds(30))
                    .socketTimeout(Duration.ofSeconds(60))
                    .tcpKeepAlive(true))
            .credentialsProvider(credentials)
            .forcePathStyle(config.pathStyle())
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
    Region region = region(config);
    if (region != null) {
      builder.region(region);
    }
    if (config.endpoint() != null) {
      builder.endpointOverride(config.endpoint());
    }
    return builder.build();
  }

  private static S3Presigner buildPresigner(S3Config config, AwsCredentialsProvider credentials) {
    S3Presigner.Builder builder =
        S3Presigner.builder()
            .credentialsProvider(credentials)
            .serviceConfiguration(
                S3Configuration.builder().pathStyleAccessEnabled(config.pathStyle()).build());
    Region region = region(config);
    if (region != null) {
      builder.region(region);
    }
    if (config.endpoint() != null) {
      builder.endpointOverride(config.endpoint());
    }
    return builder.build();
  }

  /** The configured region, us-east-1 for an S3-compatible endpoint, else null (SDK chain). */
  private static Region region(S3Config config) {
    if (config.region() != null) {
      return Region.of(config.region());
    }
    return config.endpoint() != null ? Region.US_EAST_1 : null;
  }

  private static void closeQuietly(Object resource) {
    if (resource instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        log.debug("closing {} failed", resource, e);
      }
    }
  }

  /** A writer buffering one part; see the class comment. */
  private final class Writer implements ObjectWriter {
    private final String key;
    private final String objectKey;
    private final List<CompletedPart> parts = new ArrayList<>();
    private byte[] buffer = new byte[Math.min(INITIAL_BUFFER, partSize)];
    private int filled;
    private long written;
    private String uploadId;
    private String closedAs; // null while open, else "committed" or "aborted"

    Writer(String key, String objectKey) {
      this.key = key;
      this.objectKey = objectKey;
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      Objects.checkFromIndexSize(offset, length, bytes.length);
      ensureOpen();
      while (length > 0) {
        if (filled == partSize) {
          uploadPart(); // only once more bytes follow: a last full part waits for commit
        }
        int n = Math.min(length, partSize - filled);
        ensureCapacity(filled + n);
        System.arraycopy(bytes, offset, buffer, filled, n);
        filled += n;
        written += n;
        offset += n;
        length -= n;
      }
    }

    @Override
    public long written() {
      return written;
    }

    @Override
    public void commit() throws IOException {
      ensureOpen();
      try {
        if (uploadId == null) {
          try {
            s3.putObject(
                b ->
                    b.bucket(bucket)
                        .key(objectKey)
                        .contentType(CONTENT_TYPE)
                        .contentLength((long) filled),
                RequestBody.fromContentProvider(bufferContent(), filled, CONTENT_TYPE));
          } catch (SdkException e) {
            throw failure("PutObject", objectKey, e);
          }
        } else {
          if (filled > 0) {
            uploadPart();
          }
          try {
            s3.completeMultipartUpload(b ->
                b.bucket(bucket)
                    .key(objectKey)
                    .uploadId(uploadId)
                    .multipartUpload(m -> m.parts(parts)));
          } catch (SdkException e) {
            throw failure("CompleteMultipartUpload", objectKey, e);
          }
        }
      } catch (IOException | RuntimeException e) {
        abort();
        throw e;
      }
      closedAs = "committed";
      buffer = null;
    }

    @Override
    public void abort() {
      if (closedAs != null) {
        return;
      }
      closedAs = "aborted";
      buffer = null;
      if (uploadId != null) {
        abortUpload(objectKey, uploadId);
      }
    }

    private void ensureOpen() throws IOException {
      if (closedAs != null) {
        throw new IOException("the writer of " + key + " is already " + closedAs);
      }
    }

    private void ensureCapacity(int needed) {
      if (needed > buffer.length) {
        int grown = (int) Math.min(partSize, Math.max(needed, 2L * buffer.length));
        buffer = java.util.Arrays.copyOf(buffer, grown);
      }
    }

    private ContentStreamProvider bufferContent() {
      byte[] bytes = buffer;
      int length = filled;
      return () -> new ByteArrayInputStream(bytes, 0, length);
    }

    /** Uploads the buffer as the next part, starting the multipart upload first if need be. */
    private void uploadPart() throws IOException {
      try {
        if (uploadId == null) {
          try {
            uploadId =
                s3.createMultipartUpload(
                        b -> b.bucket(bucket).key(objectKey).contentType(CONTENT_TYPE))
                    .uploadId();
          } catch (SdkException e) {
            throw failure("CreateMultipartUpload", objectKey, e);
          }
        }
        int number = parts.size() + 1;
        if (number > MAX_PARTS) {
          throw new IOException(
              "object "
                  + key
                  + " is too large for S3: more than "
                  + MAX_PARTS
                  + " parts of "
                  + partSize
                  + " bytes (raise the part size)");
        }
        long length = filled;
        try {
          UploadPartResponse response =
              s3.uploadPart(
                  b ->
                      b.bucket(bucket)
                          .key(objectKey)
                          .uploadId(uploadId)
                          .partNumber(number)
                          .contentLength(length),
                  RequestBody.fromContentProvider(bufferContent(), length, CONTENT_TYPE));
          parts.add(completedPart(number, response));
        } catch (SdkException e) {
          throw failure("UploadPart " + number, objectKey, e);
        }
        filled = 0;
      } catch (IOException | RuntimeException e) {
        abort();
        throw e;
      }
    }
  }

  /**
   * Streams of one slice of a file for a part's request body; the SDK may ask for the stream more
   * than once (signing, retries), and every stream handed out is closed with this.
   */
  private static final class FileSlices implements ContentStreamProvider, AutoCloseable {
    private final Path file;
    private final long offset;
    private final long length;
    private final List<InputStream> opened = new ArrayList<>();

    FileSlices(Path file, long offset, long length) {
      this.file = file;
      this.offset = offset;
      this.length = length;
    }

    @Override
    public InputStream newStream() {
      try {
        closeAll();
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        channel.position(offset);
        InputStream in = new LimitedInputStream(Channels.newInputStream(channel), length);
        opened.add(in);
        return in;
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("cannot read " + file, e);
      }
    }

    private void closeAll() {
      for (InputStream in : opened) {
        try {
          in.close();
        } catch (IOException e) {
          log.debug("closing a slice of {} failed", file, e);
        }
      }
      opened.clear();
    }

    @Override
    public void close() {
      closeAll();
    }
  }
}
