package io.transship.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.transship.oci.ByteRange;
import io.transship.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlobStoreTest {

  private static final byte[] CONTENT = "layer bytes".getBytes(StandardCharsets.UTF_8);
  private static final Digest DIGEST = Digest.sha256(CONTENT);

  private final InMemoryObjectStore objects = new InMemoryObjectStore();
  private final BlobStore blobs = new BlobStore(objects);

  @TempDir Path dir;

  private static void write(VerifyingBlobWriter writer, byte[] content) throws IOException {
    writer.write(content, 0, 4);
    writer.write(content, 4, content.length - 4);
  }

  private byte[] read(Digest digest, ByteRange range) throws IOException {
    try (InputStream in = blobs.open(digest, range)) {
      return in.readAllBytes();
    }
  }

  @Test
  void matchingContentIsStoredUnderItsDigest() throws IOException {
    try (VerifyingBlobWriter writer = blobs.newWriter(DIGEST)) {
      write(writer, CONTENT);
      assertThat(writer.written()).isEqualTo(CONTENT.length);
      writer.commit();
    }
    assertThat(blobs.stat(DIGEST)).hasValueSatisfying(i -> assertThat(i.size()).isEqualTo(11));
    assertThat(read(DIGEST, null)).isEqualTo(CONTENT);
    assertThat(read(DIGEST, new ByteRange(6, 10))).asString().isEqualTo("bytes");
    assertThat(objects.stat(StorageKeys.blob(DIGEST))).isPresent();
  }

  @Test
  void mismatchThrowsAndStoresNothing() throws IOException {
    Digest announced = Digest.sha256("something else".getBytes(StandardCharsets.UTF_8));
    VerifyingBlobWriter writer = blobs.newWriter(announced);
    write(writer, CONTENT);
    assertThatThrownBy(writer::commit)
        .isInstanceOfSatisfying(
            DigestMismatchException.class,
            e -> {
              assertThat(e.expected()).isEqualTo(announced);
              assertThat(e.actual()).isEqualTo(DIGEST);
            });
    writer.close();
    assertThat(blobs.stat(announced)).isEmpty();
    assertThat(blobs.stat(DIGEST)).isEmpty();
    assertThat(objects.list("")).isEmpty();
  }

  @Test
  void mismatchLeavesAnExistingBlobIntact() throws IOException {
    try (VerifyingBlobWriter writer = blobs.newWriter(DIGEST)) {
      write(writer, CONTENT);
      writer.commit();
    }
    VerifyingBlobWriter corrupt = blobs.newWriter(DIGEST);
    write(corrupt, "layer bytez".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(corrupt::commit).isInstanceOf(DigestMismatchException.class);
    assertThat(read(DIGEST, null)).isEqualTo(CONTENT);
  }

  @Test
  void committingAnExistingBlobSucceeds() throws IOException {
    for (int i = 0; i < 2; i++) {
      try (VerifyingBlobWriter writer = blobs.newWriter(DIGEST)) {
        write(writer, CONTENT);
        writer.commit();
      }
    }
    assertThat(read(DIGEST, null)).isEqualTo(CONTENT);
    assertThat(objects.list("")).hasSize(1);
  }

  @Test
  void verifiedFileIsStoredAndConsumed() throws IOException {
    Path file = dir.resolve("verified");
    Files.write(file, CONTENT);
    blobs.putVerifiedFile(DIGEST, file);
    assertThat(file).doesNotExist();
    assertThat(read(DIGEST, null)).isEqualTo(CONTENT);
  }

  @Test
  void localFileOnlyFromStoresWithLocalFiles() throws IOException {
    Files.write(dir.resolve("in-memory"), CONTENT);
    blobs.putVerifiedFile(DIGEST, dir.resolve("in-memory"));
    assertThat(blobs.localFile(DIGEST)).isEmpty();

    BlobStore onDisk = new BlobStore(new FilesystemObjectStore(dir.resolve("root")));
    assertThat(onDisk.localFile(DIGEST)).isEmpty();
    try (VerifyingBlobWriter writer = onDisk.newWriter(DIGEST)) {
      write(writer, CONTENT);
      writer.commit();
    }
    assertThat(onDisk.localFile(DIGEST))
        .hasValueSatisfying(p -> assertThat(p).hasBinaryContent(CONTENT));
    assertThat(onDisk.delete(DIGEST)).isTrue();
    assertThat(onDisk.localFile(DIGEST)).isEmpty();
  }

  @Test
  void missingBlobIsNoSuchObject() {
    assertThatThrownBy(() -> blobs.open(DIGEST, null)).isInstanceOf(NoSuchObjectException.class);
  }
}
