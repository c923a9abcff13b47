package io.transship.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The contract, plus the cache's own behaviour, with an in-memory store as the remote. */
class CachedObjectStoreTest extends ObjectStoreContract {
  @TempDir Path cacheDir;
  InMemoryObjectStore remote;

  @Override
  protected ObjectStore newStore() throws Exception {
    remote = new InMemoryObjectStore();
    return new CachedObjectStore(
        remote, new FilesystemObjectStore(cacheDir.resolve("c" + System.nanoTime())), k -> true);
  }

  @Test
  void aRemoteObjectIsCopiedIntoTheLocalCacheAfterTheFirstRead() throws Exception {
    CachedObjectStore cached = (CachedObjectStore) store;
    try (ObjectWriter writer = remote.newWriter("blobs/x")) {
      byte[] bytes = "remote bytes".getBytes(StandardCharsets.UTF_8);
      writer.write(bytes, 0, bytes.length);
      writer.commit();
    }
    assertThat(cached.localFile("blobs/x")).isEmpty();
    try (var in = cached.open("blobs/x", null)) {
      assertThat(in.readAllBytes()).isEqualTo("remote bytes".getBytes(StandardCharsets.UTF_8));
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (cached.localFile("blobs/x").isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(cached.localFile("blobs/x")).isPresent();
    remote.delete("blobs/x");
    try (var in = cached.open("blobs/x", null)) {
      assertThat(in.readAllBytes()).isEqualTo("remote bytes".getBytes(StandardCharsets.UTF_8));
    }
  }

  @Test
  void aWholeReadFillsTheCacheFromTheSameStream() throws Exception {
    CachedObjectStore cached = (CachedObjectStore) store;
    byte[] bytes = new byte[300_000];
    new java.util.Random(3).nextBytes(bytes);
    try (ObjectWriter writer = remote.newWriter("blobs/z")) {
      writer.write(bytes, 0, bytes.length);
      writer.commit();
    }
    try (var in = cached.open("blobs/z", new io.transship.oci.ByteRange(0, bytes.length - 1))) {
      assertThat(in.readNBytes(bytes.length)).isEqualTo(bytes); // stops at the size, like a server
    }
    assertThat(cached.localFile("blobs/z")).isPresent();
    assertThat(java.nio.file.Files.readAllBytes(cached.localFile("blobs/z").get()))
        .isEqualTo(bytes);
  }

  @Test
  void aPartialReadLeavesNoPartialObjectInTheCache() throws Exception {
    CachedObjectStore cached = (CachedObjectStore) store;
    byte[] bytes = new byte[300_000];
    try (ObjectWriter writer = remote.newWriter("blobs/p")) {
      writer.write(bytes, 0, bytes.length);
      writer.commit();
    }
    try (var in = cached.open("blobs/p", null)) {
      in.readNBytes(1000);
    }
    // the abandoned pass-through wrote nothing visible; only a complete background copy may appear
    cached
        .localFile("blobs/p")
        .ifPresent(file -> assertThat(file.toFile().length()).isEqualTo(bytes.length));
  }

  @Test
  void putFileReachesTheRemoteStoreAndStaysInTheCache() throws Exception {
    CachedObjectStore cached = (CachedObjectStore) store;
    Path file = cacheDir.resolve("upload.bin");
    java.nio.file.Files.writeString(file, "uploaded");
    cached.putFile("blobs/y", file);
    assertThat(remote.stat("blobs/y")).isPresent();
    assertThat(cached.localFile("blobs/y")).isPresent();
    assertThat(java.nio.file.Files.exists(file)).isFalse();
  }

  @Test
  void mutableKeysAreNeverServedFromTheCache() throws Exception {
    CachedObjectStore cached =
        new CachedObjectStore(
            remote,
            new FilesystemObjectStore(cacheDir.resolve("m")),
            CachedObjectStore::immutableKey);
    try (ObjectWriter writer = cached.newWriter("tags/a/b/_tags/v1")) {
      writer.write(new byte[] {1}, 0, 1);
      writer.commit();
    }
    assertThat(cached.localFile("tags/a/b/_tags/v1")).isEmpty();
    remote.delete("tags/a/b/_tags/v1");
    assertThat(cached.stat("tags/a/b/_tags/v1")).isEmpty();
  }

  @Test
  void aRemoteBlobThatDoesNotMatchItsDigestIsPassedOnButNeverCached() throws Exception {
    CachedObjectStore cached = (CachedObjectStore) store;
    byte[] good = "the real bytes".getBytes(StandardCharsets.UTF_8);
    String key = StorageKeys.blob(io.transship.oci.Digest.sha256(good));
    byte[] bad = "the wrong bytes".getBytes(StandardCharsets.UTF_8);
    try (ObjectWriter writer = remote.newWriter(key)) {
      writer.write(bad, 0, bad.length);
      writer.commit();
    }
    for (int round = 0; round < 2; round++) { // the streamed fill, then the background fill
      try (var in = cached.open(key, round == 0 ? null : new io.transship.oci.ByteRange(1, 3))) {
        in.readAllBytes();
      }
    }
    Thread.sleep(300);
    assertThat(cached.localFile(key)).isEmpty();
  }
}
