package io.transship.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The contract, plus eviction: only content, least recently used first, listeners told. */
class BoundedObjectStoreTest extends ObjectStoreContract {

  @TempDir Path dir;

  private Path root() {
    return dir.resolve("store");
  }

  @Override
  protected ObjectStore newStore() throws IOException {
    return new BoundedObjectStore(new FilesystemObjectStore(root()), 0);
  }

  private BoundedObjectStore bounded(long maxBytes) throws IOException {
    store.close();
    store = new BoundedObjectStore(new FilesystemObjectStore(root()), maxBytes);
    return (BoundedObjectStore) store;
  }

  private List<String> keys(String prefix) throws IOException {
    return store.list(prefix).stream().map(ObjectInfo::key).toList();
  }

  @Test
  void evictionKeepsTheBoundAndEvictsTheLeastRecentlyReadFirst() throws IOException {
    BoundedObjectStore bounded = bounded(300);
    put("blobs/a", randomBytes(1, 100));
    put("blobs/b", randomBytes(2, 100));
    put("blobs/c", randomBytes(3, 100));
    assertThat(bounded.contentBytes()).isEqualTo(300);
    read("blobs/a"); // a was written first but read last: b is now the least recently used

    put("blobs/d", randomBytes(4, 100));
    assertThat(keys("blobs/")).containsExactly("blobs/a", "blobs/c", "blobs/d");
    assertThat(root().resolve("blobs/b")).doesNotExist();

    assertThat(bounded.localFile("blobs/c")).isPresent(); // localFile counts as a read too
    put("blobs/e", randomBytes(5, 100));
    assertThat(keys("blobs/")).containsExactly("blobs/c", "blobs/d", "blobs/e");
    assertThat(bounded.contentBytes()).isEqualTo(300);
    assertThat(bounded.evictions()).isEqualTo(2);
  }

  @Test
  void recordsAreNeverEvictedNorCountedHoweverOldOrUnread() throws IOException {
    BoundedObjectStore bounded = bounded(250);
    put("conversions/origins/sha256/x", randomBytes(1, 100));
    put("tags/up/repo/_tags/latest", randomBytes(2, 100));
    for (int i = 0; i < 10; i++) {
      put("manifests/sha256/m" + i, randomBytes(10 + i, 100));
    }
    assertThat(keys("conversions/")).containsExactly("conversions/origins/sha256/x");
    assertThat(keys("tags/")).hasSize(1);
    assertThat(keys("manifests/")).hasSize(2);
    assertThat(bounded.contentBytes()).isEqualTo(200);
  }

  @Test
  void listenersHearOfEveryEvictionAfterTheFileIsGone() throws IOException {
    BoundedObjectStore bounded = bounded(200);
    List<String> heard = new ArrayList<>();
    bounded.addEvictionListener((key, bytes) -> {
      heard.add(key);
      assertThat(root().resolve(key)).doesNotExist();
    });
    put("blobs/a", randomBytes(1, 100));
    put("blobs/b", randomBytes(2, 100));
    put("manifests/c", randomBytes(3, 150));
    assertThat(heard).containsExactly("blobs/a", "blobs/b");
  }

  @Test
  void anObjectLargerThanTheBoundIsKeptAloneUntilTheNextCommit() throws IOException {
    BoundedObjectStore bounded = bounded(300);
    put("blobs/a", randomBytes(1, 100));
    put("blobs/b", randomBytes(2, 100));
    put("blobs/huge", randomBytes(3, 500));
    assertThat(keys("blobs/")).containsExactly("blobs/huge");
    put("blobs/small", randomBytes(4, 10));
    assertThat(keys("blobs/")).containsExactly("blobs/small");
    assertThat(bounded.contentBytes()).isEqualTo(10);
  }

  @Test
  void anObjectBeingWrittenIsNotEvictedUnderIt() throws IOException {
    BoundedObjectStore bounded = bounded(150);
    put("blobs/a", randomBytes(1, 100));
    try (ObjectWriter pending = bounded.newWriter("blobs/a")) {
      put("blobs/b", randomBytes(2, 100)); // over the bound, but a is being rewritten
      assertThat(keys("blobs/")).contains("blobs/a");
      pending.write(randomBytes(1, 100), 0, 100);
      pending.commit();
    }
    assertThat(keys("blobs/")).containsExactly("blobs/a");
  }

  @Test
  void replacingAndDeletingKeepContentBytesExact() throws IOException {
    BoundedObjectStore bounded = (BoundedObjectStore) store;
    put("blobs/x/1", randomBytes(1, 100));
    put("blobs/x/2", randomBytes(2, 30));
    put("blobs/x/1", randomBytes(3, 50));
    assertThat(bounded.contentBytes()).isEqualTo(80);
    assertThat(bounded.delete("blobs/x/1")).isTrue();
    assertThat(bounded.contentBytes()).isEqualTo(30);
    Path file = scratch.resolve("f");
    Files.write(file, randomBytes(4, 70));
    bounded.putFile("blobs/x/3", file);
    assertThat(bounded.contentBytes()).isEqualTo(100);
  }

  @Test
  void startupIndexesExistingContentAndEvictsTheOldestFirst() throws IOException {
    put("blobs/old", randomBytes(1, 100));
    put("blobs/mid", randomBytes(2, 100));
    put("blobs/new", randomBytes(3, 100));
    Instant t0 = Instant.parse("2024-01-01T00:00:00Z");
    Files.setLastModifiedTime(root().resolve("blobs/new"), FileTime.from(t0));
    Files.setLastModifiedTime(root().resolve("blobs/old"), FileTime.from(t0.minusSeconds(7200)));
    Files.setLastModifiedTime(root().resolve("blobs/mid"), FileTime.from(t0.minusSeconds(3600)));

    BoundedObjectStore bounded = bounded(250);
    assertThat(keys("blobs/")).containsExactly("blobs/mid", "blobs/new");
    assertThat(bounded.contentBytes()).isEqualTo(200);
  }

  @Test
  void aReaderKeepsItsBytesWhenTheObjectIsEvicted() throws IOException {
    bounded(100);
    byte[] content = randomBytes(1, 100);
    put("blobs/victim", content);
    try (InputStream in = store.open("blobs/victim", null)) {
      byte[] first = in.readNBytes(10);
      put("blobs/usurper", randomBytes(2, 100));
      assertThat(store.stat("blobs/victim")).isEmpty();
      byte[] rest = in.readAllBytes();
      assertThat(first).isEqualTo(Arrays.copyOfRange(content, 0, 10));
      assertThat(rest).isEqualTo(Arrays.copyOfRange(content, 10, 100));
    }
  }
}
