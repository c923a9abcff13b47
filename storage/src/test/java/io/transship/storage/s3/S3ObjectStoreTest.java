package io.transship.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.transship.oci.ByteRange;
import io.transship.storage.NoSuchObjectException;
import io.transship.storage.ObjectInfo;
import io.transship.storage.ObjectStore;
import io.transship.storage.ObjectStoreContract;
import io.transship.storage.ObjectWriter;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The object-store contract and the S3-specific guarantees, against a real S3 server (S3Proxy).
 * Every test gets a store under a fresh key prefix of one shared bucket, with 5 MiB parts so that
 * multipart uploads really happen.
 */
@ExtendWith(S3ProxyServer.Extension.class)
class S3ObjectStoreTest extends ObjectStoreContract {

  private static final int PART = (int) S3Config.MIN_PART_SIZE;

  private static S3ProxyServer server;

  @BeforeAll
  static void connect(S3ProxyServer s3) {
    server = s3;
  }

  @Override
  protected ObjectStore newStore() {
    return new S3ObjectStore(server.config(freshPrefix()));
  }

  private static String freshPrefix() {
    return "t/" + UUID.randomUUID();
  }

  private S3ObjectStore s3() {
    return (S3ObjectStore) store;
  }

  /** What the bucket itself holds under the store's prefix, bypassing the store. */
  private List<String> rawKeys() {
    return server
        .client()
        .listObjectsV2Paginator(b -> b.bucket(S3ProxyServer.BUCKET).prefix(s3().config().prefix()))
        .contents()
        .stream()
        .map(S3Object::key)
        .toList();
  }

  private List<MultipartUpload> uploadsInFlight() {
    return server
        .client()
        .listMultipartUploads(b -> b.bucket(S3ProxyServer.BUCKET).prefix(s3().config().prefix()))
        .uploads();
  }

  private static void writeInChunks(ObjectWriter writer, byte[] content) throws IOException {
    for (int off = 0; off < content.length; off += 100_003) {
      writer.write(content, off, Math.min(100_003, content.length - off));
    }
  }

  // ---- visibility of multipart uploads ----

  @Test
  void multipartObjectIsInvisibleUntilCompleted() throws IOException {
    byte[] content = randomBytes(1, 2 * PART + 12_345);
    try (ObjectWriter writer = store.newWriter("blobs/sha256/ab/abc")) {
      writeInChunks(writer, content);
      // two full parts are uploaded, the rest is buffered
      assertThat(uploadsInFlight())
          .singleElement()
          .satisfies(u -> assertThat(u.key()).endsWith("blobs/sha256/ab/abc"));
      assertThat(store.stat("blobs/sha256/ab/abc")).isEmpty();
      assertThat(store.list("")).isEmpty();
      assertThatThrownBy(() -> store.open("blobs/sha256/ab/abc", null))
          .isInstanceOf(NoSuchObjectException.class);
      assertThat(rawKeys()).isEmpty();

      writer.commit();
    }
    assertThat(uploadsInFlight()).isEmpty();
    assertThat(store.stat("blobs/sha256/ab/abc"))
        .hasValueSatisfying(i -> assertThat(i.size()).isEqualTo(content.length));
    assertThat(read("blobs/sha256/ab/abc")).isEqualTo(content);
    assertThat(read("blobs/sha256/ab/abc", new ByteRange(PART - 2, PART + 1)))
        .isEqualTo(Arrays.copyOfRange(content, PART - 2, PART + 2));
  }

  @Test
  void objectOfExactlyOnePartIsOnePut() throws IOException {
    byte[] content = randomBytes(2, PART);
    try (ObjectWriter writer = store.newWriter("one-part")) {
      writeInChunks(writer, content);
      assertThat(uploadsInFlight()).isEmpty();
      writer.commit();
    }
    assertThat(read("one-part")).isEqualTo(content);
  }

  @Test
  void abortedMultipartUploadLeavesNothing() throws IOException {
    put("k", bytes("old"));
    ObjectWriter writer = store.newWriter("k");
    writeInChunks(writer, randomBytes(3, PART + 1));
    assertThat(uploadsInFlight()).hasSize(1);

    writer.abort();

    assertThat(uploadsInFlight()).isEmpty();
    assertThat(read("k")).isEqualTo(bytes("old"));
    assertThat(store.list("").stream().map(ObjectInfo::key)).containsExactly("k");
    assertThat(rawKeys()).containsExactly(s3().config().prefix() + "k");
    assertThatThrownBy(writer::commit).isInstanceOf(IOException.class);
  }

  @Test
  void incompleteUploadsOfADeadWriterCanBeAborted() throws IOException {
    ObjectWriter abandoned = store.newWriter("abandoned");
    writeInChunks(abandoned, randomBytes(4, PART + 10));
    assertThat(uploadsInFlight()).hasSize(1);

    assertThat(s3().abortIncompleteUploads(Instant.now().minusSeconds(3600))).isZero();
    assertThat(s3().abortIncompleteUploads(Instant.now().plusSeconds(60))).isEqualTo(1);

    assertThat(uploadsInFlight()).isEmpty();
    abandoned.abort(); // the upload is already gone: no error
    assertThat(store.stat("abandoned")).isEmpty();
  }

  @Test
  void putFileOfSeveralPartsIsReadFromTheFile() throws IOException {
    Path file = scratch.resolve("layer");
    byte[] content = randomBytes(5, 2 * PART + 777);
    Files.write(file, content);
    store.putFile("blobs/from-file", file);
    assertThat(file).doesNotExist();
    assertThat(uploadsInFlight()).isEmpty();
    assertThat(read("blobs/from-file")).isEqualTo(content);
  }

  @Test
  void closingAStreamEarlyLeavesTheStoreUsable() throws IOException {
    byte[] content = randomBytes(6, 3 * PART);
    put("big", content);
    for (int i = 0; i < 3; i++) {
      try (InputStream in = store.open("big", null)) {
        assertThat(in.readNBytes(10)).isEqualTo(Arrays.copyOf(content, 10));
      }
    }
    assertThat(read("big", new ByteRange(3L * PART - 3, 3L * PART + 100)))
        .isEqualTo(Arrays.copyOfRange(content, 3 * PART - 3, 3 * PART));
  }

  // ---- conditional create ----

  @Test
  void putIfAbsentCreatesOnlyOnce() throws IOException {
    assertThat(s3().putIfAbsent("leases/x", bytes("first"))).isTrue();
    assertThat(s3().putIfAbsent("leases/x", bytes("second"))).isFalse();
    assertThat(read("leases/x")).isEqualTo(bytes("first"));
    assertThat(store.delete("leases/x")).isTrue();
    assertThat(s3().putIfAbsent("leases/x", bytes("third"))).isTrue();
    assertThat(read("leases/x")).isEqualTo(bytes("third"));
  }

  // ---- prefixes ----

  @Test
  void storesWithDifferentPrefixesDoNotSeeEachOther() throws Exception {
    String base = freshPrefix();
    try (S3ObjectStore a = new S3ObjectStore(server.config(base + "/a"));
        S3ObjectStore ab = new S3ObjectStore(server.config(base + "/ab/"));
        S3ObjectStore parent = new S3ObjectStore(server.config(base))) {
      putIn(a, "k", "in a");
      putIn(ab, "k", "in ab");
      putIn(ab, "only/ab", "x");

      assertThat(readFrom(a, "k")).isEqualTo("in a");
      assertThat(readFrom(ab, "k")).isEqualTo("in ab");
      assertThat(a.list("").stream().map(ObjectInfo::key)).containsExactly("k");
      assertThat(ab.list("").stream().map(ObjectInfo::key)).containsExactly("k", "only/ab");
      assertThat(a.stat("only/ab")).isEmpty();
      assertThat(parent.list("").stream().map(ObjectInfo::key))
          .containsExactly("a/k", "ab/k", "ab/only/ab");

      assertThat(a.delete("k")).isTrue();
      assertThat(a.list("")).isEmpty();
      assertThat(readFrom(ab, "k")).isEqualTo("in ab");
    }
  }

  private static void putIn(ObjectStore target, String key, String text) throws IOException {
    try (ObjectWriter writer = target.newWriter(key)) {
      byte[] b = bytes(text);
      writer.write(b, 0, b.length);
      writer.commit();
    }
  }

  private static String readFrom(ObjectStore source, String key) throws IOException {
    try (InputStream in = source.open(key, null)) {
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  // ---- presigned URLs ----

  @Test
  void presignedGetDownloadsTheObjectWithoutCredentials() throws Exception {
    byte[] content = randomBytes(7, 300_000);
    put("blobs/presigned", content);
    URI url = s3().presignGet("blobs/presigned", Duration.ofMinutes(5)).orElseThrow();
    assertThat(url.getRawQuery()).contains("X-Amz-Signature=").contains("X-Amz-Expires=300");

    try (HttpClient http = HttpClient.newHttpClient()) {
      HttpResponse<byte[]> whole =
          http.send(HttpRequest.newBuilder(url).build(), HttpResponse.BodyHandlers.ofByteArray());
      assertThat(whole.statusCode()).isEqualTo(200);
      assertThat(whole.body()).isEqualTo(content);

      HttpResponse<byte[]> range =
          http.send(
              HttpRequest.newBuilder(url).header("Range", "bytes=100-199").build(),
              HttpResponse.BodyHandlers.ofByteArray());
      assertThat(range.statusCode()).isEqualTo(206);
      assertThat(range.body()).isEqualTo(Arrays.copyOfRange(content, 100, 200));

      URI tampered = URI.create(url.toString().replace("blobs/presigned", "blobs/other"));
      assertThat(
              http.send(
                      HttpRequest.newBuilder(tampered).build(),
                      HttpResponse.BodyHandlers.ofString())
                  .statusCode())
          .isEqualTo(403);
    }
  }

  @Test
  void presignRejectsExpiriesSigV4CannotHonour() {
    assertThatThrownBy(() -> s3().presign("k", Duration.ofDays(8)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> s3().presign("k", Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> s3().presign("../k", null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  // ---- failures ----

  @Test
  void aMissingBucketIsAClearErrorNotAMissingObject() throws IOException {
    S3Config config = server.config("x");
    S3Config missing =
        new S3Config(
            "no-such-bucket-" + UUID.randomUUID().toString().substring(0, 8),
            "x",
            config.region(),
            config.endpoint(),
            true,
            config.accessKeyId(),
            config.secretAccessKey(),
            0,
            null);
    try (S3ObjectStore bad = new S3ObjectStore(missing)) {
      assertThatThrownBy(bad::checkBucket)
          .isInstanceOf(IOException.class)
          .hasMessageContaining("does not exist");
      assertThatThrownBy(() -> bad.open("k", null))
          .isInstanceOf(IOException.class)
          .isNotInstanceOf(NoSuchObjectException.class)
          .hasMessageContaining("NoSuchBucket");
    }
    s3().checkBucket();
  }

  @Test
  void wrongCredentialsAreAOneLineError() {
    S3Config config = server.config("x");
    S3Config wrong =
        new S3Config(
            config.bucket(),
            "x",
            config.region(),
            config.endpoint(),
            true,
            config.accessKeyId(),
            "not-the-secret",
            0,
            null);
    try (S3ObjectStore bad = new S3ObjectStore(wrong)) {
      assertThatThrownBy(() -> bad.list(""))
          .isInstanceOf(IOException.class)
          .hasMessageStartingWith("S3 ListObjectsV2 of s3://transship-test/x/ failed: HTTP 403")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
      assertThatThrownBy(() -> putIn(bad, "k", "v"))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("HTTP 403");
    }
  }

  @Test
  void anUnreachableEndpointIsAnIOException() throws IOException {
    S3Config config = server.config("x");
    int closedPort;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    S3Config unreachable =
        new S3Config(
            config.bucket(),
            "x",
            config.region(),
            URI.create("http://127.0.0.1:" + closedPort),
            true,
            config.accessKeyId(),
            config.secretAccessKey(),
            0,
            null);
    try (S3ObjectStore bad = new S3ObjectStore(unreachable)) {
      assertThatThrownBy(() -> bad.stat("k"))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("S3 HeadObject of s3://transship-test/x/k failed");
    }
  }
}
