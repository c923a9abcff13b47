package io.transship.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.transship.oci.ByteRange;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
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
    assertThat(restarted.stat("crashed")).isEmpty();
    // the dead process's writer can no longer publish anything
    assertThatThrownBy(crashed::commit).isInstanceOf(IOException.class);
    assertThat(restarted.stat("crashed")).isEmpty();
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
