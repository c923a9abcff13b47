package io.transship.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.transship.oci.ByteRange;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FilesystemObjectStoreTest extends ObjectStoreContract {

  @TempDir Path dir;

  private Path root() {
    return dir.resolve("store");
  }

  @Override
  protected ObjectStore newStore() throws IOException {
    return new FilesystemObjectStore(root());
  }

  private FilesystemObjectStore bounded(long maxBytes) throws IOException {
    store.close();
    store = new FilesystemObjectStore(root(), maxBytes);
    return (FilesystemObjectStore) store;
  }

  private List<String> keys() throws IOException {
    return store.list("").stream().map(ObjectInfo::key).toList();
  }

  private static long countFiles(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).count();
    }
  }

  @Test
  void leftoverPendingWritesAreDeletedAtStartupAndNeverServed() throws IOException {
    put("kept", bytes("kept"));
    // a writer that never finishes: the process "dies" with it
    ObjectWriter crashed = store.newWriter("crashed");
    byte[] partial = randomBytes(1, 200_000);
    crashed.write(partial, 0, partial.length);
    Path tmp = root().resolve(FilesystemObjectStore.TMP_DIR);
    Files.createDirectories(tmp.resolve("sub"));
    Files.write(tmp.resolve("older.part"), bytes("from an earlier crash"));
    Files.write(tmp.resolve("sub/x"), bytes("nested"));
    assertThat(countFiles(tmp)).isEqualTo(3);
    assertThat(keys()).containsExactly("kept");
    assertThat(store.stat("crashed")).isEmpty();

    FilesystemObjectStore restarted = new FilesystemObjectStore(root());

    assertThat(tmp).isEmptyDirectory();
    assertThat(restarted.list("").stream().map(ObjectInfo::key)).containsExactly("kept");
    assertThat(restarted.totalBytes()).isEqualTo(4);
    assertThat(restarted.stat("crashed")).isEmpty();
    // the dead process's writer can no longer publish anything
    assertThatThrownBy(crashed::commit).isInstanceOf(IOException.class);
    assertThat(restarted.stat("crashed")).isEmpty();
  }

  @Test
  void evictionKeepsTheBoundAndEvictsTheLeastRecentlyReadFirst() throws IOException {
    FilesystemObjectStore fs = bounded(300);
    put("a", randomBytes(1, 100));
    put("b", randomBytes(2, 100));
    put("c", randomBytes(3, 100));
    assertThat(fs.totalBytes()).isEqualTo(300);
    read("a"); // a was written first but read last: b is now the least recently used

    put("d", randomBytes(4, 100));
    assertThat(keys()).containsExactly("a", "c", "d");
    assertThat(root().resolve("b")).doesNotExist();
    assertThat(fs.totalBytes()).isEqualTo(300);

    assertThat(fs.localFile("c")).isPresent(); // localFile counts as a read too
    put("e", randomBytes(5, 100));
    assertThat(keys()).containsExactly("c", "d", "e");
    assertThat(fs.totalBytes()).isEqualTo(300).isLessThanOrEqualTo(fs.maxBytes());
  }

  @Test
  void anObjectLargerThanTheBoundIsKeptAloneUntilTheNextCommit() throws IOException {
    FilesystemObjectStore fs = bounded(300);
    put("a", randomBytes(1, 100));
    put("b", randomBytes(2, 100));
    put("huge", randomBytes(3, 500));
    assertThat(keys()).containsExactly("huge");
    assertThat(fs.totalBytes()).isEqualTo(500);
    put("small", randomBytes(4, 10));
    assertThat(keys()).containsExactly("small");
    assertThat(fs.totalBytes()).isEqualTo(10);
  }

  @Test
  void replacingAndDeletingKeepTotalBytesExact() throws IOException {
    FilesystemObjectStore fs = (FilesystemObjectStore) store;
    put("x/1", randomBytes(1, 100));
    put("x/2", randomBytes(2, 30));
    put("x/1", randomBytes(3, 50));
    assertThat(fs.totalBytes()).isEqualTo(80);
    assertThat(fs.delete("x/1")).isTrue();
    assertThat(fs.totalBytes()).isEqualTo(30);
    Path file = scratch.resolve("f");
    Files.write(file, randomBytes(4, 70));
    fs.putFile("x/3", file);
    assertThat(fs.totalBytes()).isEqualTo(100);
  }

  @Test
  void startupIndexesExistingObjectsAndEvictsTheOldestFirst() throws IOException {
    put("old", randomBytes(1, 100));
    put("mid", randomBytes(2, 100));
    put("new", randomBytes(3, 100));
    Instant t0 = Instant.parse("2024-01-01T00:00:00Z");
    Files.setLastModifiedTime(root().resolve("new"), FileTime.from(t0));
    Files.setLastModifiedTime(root().resolve("old"), FileTime.from(t0.minusSeconds(7200)));
    Files.setLastModifiedTime(root().resolve("mid"), FileTime.from(t0.minusSeconds(3600)));

    assertThat(new FilesystemObjectStore(root()).totalBytes()).isEqualTo(300);
    FilesystemObjectStore fs = bounded(250);
    assertThat(keys()).containsExactly("mid", "new");
    assertThat(fs.totalBytes()).isEqualTo(200);
  }

  @Test
  void aReaderKeepsItsBytesWhenTheObjectIsEvicted() throws IOException {
    bounded(100);
    byte[] content = randomBytes(1, 100);
    put("victim", content);
    try (InputStream in = store.open("victim", null)) {
      byte[] first = in.readNBytes(10);
      put("usurper", randomBytes(2, 100));
      assertThat(store.stat("victim")).isEmpty();
      byte[] rest = in.readAllBytes();
      assertThat(first).isEqualTo(Arrays.copyOfRange(content, 0, 10));
      assertThat(rest).isEqualTo(Arrays.copyOfRange(content, 10, 100));
    }
  }

  @Test
  void keysEscapingTheRootAreRejectedAndTouchNothingOutside() throws IOException {
    FilesystemObjectStore fs = (FilesystemObjectStore) store;
    Path outside = dir.resolve("outside");
    Files.write(outside, bytes("precious"));
    Path upload = scratch.resolve("upload");
    Files.write(upload, bytes("payload"));
    for (String bad : List.of("../outside", "a/../../outside", "/" + outside, "..\\outside")) {
      assertThatThrownBy(() -> fs.open(bad, null)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> fs.delete(bad)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> fs.localFile(bad)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> fs.putFile(bad, upload))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> fs.newWriter(bad)).isInstanceOf(IllegalArgumentException.class);
    }
    assertThat(outside).hasContent("precious");
    assertThat(upload).exists();
    assertThat(countFiles(root())).isZero();
  }

  @Test
  void putFileMovesTheFileOnTheSameFilesystem() throws IOException {
    FilesystemObjectStore fs = (FilesystemObjectStore) store;
    Path file = scratch.resolve("layer");
    byte[] content = randomBytes(9, 50_000);
    Files.write(file, content);
    Object inode = Files.readAttributes(file, BasicFileAttributes.class).fileKey();
    assumeThat(inode).as("filesystem exposes file keys").isNotNull();

    fs.putFile("blobs/moved", file);

    assertThat(file).doesNotExist();
    Path stored = fs.localFile("blobs/moved").orElseThrow();
    assertThat(stored).isEqualTo(root().resolve("blobs/moved"));
    assertThat(Files.readAttributes(stored, BasicFileAttributes.class).fileKey()).isEqualTo(inode);
    assertThat(read("blobs/moved")).isEqualTo(content);
  }

  @Test
  void putFileFromAnotherFilesystemIsCopied() throws IOException {
    Path shm = Path.of("/dev/shm");
    assumeThat(Files.isDirectory(shm) && Files.isWritable(shm)).isTrue();
    assumeThat(Files.getFileStore(shm)).isNotEqualTo(Files.getFileStore(dir));
    Path file = Files.createTempFile(shm, "transship-test", ".bin");
    try {
      byte[] content = randomBytes(11, 30_000);
      Files.write(file, content);
      store.putFile("copied", file);
      assertThat(file).doesNotExist();
      assertThat(read("copied")).isEqualTo(content);
      assertThat(root().resolve(FilesystemObjectStore.TMP_DIR)).isEmptyDirectory();
    } finally {
      Files.deleteIfExists(file);
    }
  }

  @Test
  void localFileIsThePlainFileOfAnObject() throws IOException {
    FilesystemObjectStore fs = (FilesystemObjectStore) store;
    put("m/x", bytes("plain"));
    assertThat(fs.localFile("m/x")).hasValueSatisfying(p -> assertThat(p).hasContent("plain"));
    assertThat(fs.localFile("m/missing")).isEmpty();
    assertThat(fs.localFile("m")).isEmpty();
  }

  @Test
  void rangedOpenOfALargeFileStartsAtTheOffset() throws IOException {
    byte[] content = randomBytes(5, 3_000_000);
    put("big", content);
    assertThat(read("big", new ByteRange(2_500_000, 2_500_009)))
        .isEqualTo(Arrays.copyOfRange(content, 2_500_000, 2_500_010));
  }
}
