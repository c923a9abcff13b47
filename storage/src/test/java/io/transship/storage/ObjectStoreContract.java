package io.transship.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.transship.oci.ByteRange;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The behaviour every {@link ObjectStore} must show. Subclass it and implement {@link #newStore()}
 * (a fresh, empty store per test); the store is closed after each test.
 */
public abstract class ObjectStoreContract {

  /** A fresh, empty store; called once before each test. */
  protected abstract ObjectStore newStore() throws Exception;

  protected ObjectStore store;

  @TempDir protected Path scratch;

  @BeforeEach
  void createStore() throws Exception {
    store = newStore();
  }

  @AfterEach
  void closeStore() throws Exception {
    store.close();
  }

  // ---- helpers ----

  protected static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  protected static byte[] randomBytes(long seed, int size) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  protected void put(String key, byte[] content) throws IOException {
    try (ObjectWriter writer = store.newWriter(key)) {
      writer.write(content, 0, content.length);
      writer.commit();
    }
  }

  protected byte[] read(String key, ByteRange range) throws IOException {
    try (InputStream in = store.open(key, range)) {
      return in.readAllBytes();
    }
  }

  protected byte[] read(String key) throws IOException {
    return read(key, null);
  }

  private List<String> keys(String prefix) throws IOException {
    return store.list(prefix).stream().map(ObjectInfo::key).toList();
  }

  // ---- writing and reading ----

  @Test
  void writtenObjectReadsBackAfterCommit() throws IOException {
    byte[] content = bytes("hello, object store");
    try (ObjectWriter writer = store.newWriter("a/b/c")) {
      writer.write(content, 0, 5);
      writer.write(content, 5, content.length - 5);
      assertThat(writer.written()).isEqualTo(content.length);
      writer.commit();
    }
    assertThat(read("a/b/c")).isEqualTo(content);
    ObjectInfo info = store.stat("a/b/c").orElseThrow();
    assertThat(info.key()).isEqualTo("a/b/c");
    assertThat(info.size()).isEqualTo(content.length);
    assertThat(info.lastModified()).isNotNull();
  }

  @Test
  void emptyObjectIsStored() throws IOException {
    put("empty", new byte[0]);
    assertThat(store.stat("empty")).hasValueSatisfying(i -> assertThat(i.size()).isZero());
    assertThat(read("empty")).isEmpty();
  }

  @Test
  void objectIsInvisibleBeforeCommit() throws IOException {
    try (ObjectWriter writer = store.newWriter("pending/x")) {
      writer.write(bytes("partial"), 0, 7);
      assertThat(store.stat("pending/x")).isEmpty();
      assertThatThrownBy(() -> store.open("pending/x", null))
          .isInstanceOf(NoSuchObjectException.class);
      assertThat(store.list("")).isEmpty();
      writer.commit();
    }
    assertThat(read("pending/x")).isEqualTo(bytes("partial"));
  }

  @Test
  void abortLeavesNothing() throws IOException {
    ObjectWriter writer = store.newWriter("k");
    writer.write(bytes("doomed"), 0, 6);
    writer.abort();
    writer.abort(); // idempotent
    assertThat(store.stat("k")).isEmpty();
    assertThat(store.list("")).isEmpty();
    assertThatThrownBy(() -> writer.write(bytes("x"), 0, 1)).isInstanceOf(IOException.class);
    assertThatThrownBy(writer::commit).isInstanceOf(IOException.class);
    assertThat(store.stat("k")).isEmpty();
  }

  @Test
  void closeWithoutCommitLeavesNothing() throws IOException {
    try (ObjectWriter writer = store.newWriter("k")) {
      writer.write(bytes("doomed"), 0, 6);
    }
    assertThat(store.stat("k")).isEmpty();
    assertThat(store.list("")).isEmpty();
  }

  @Test
  void abortAfterCommitKeepsTheObject() throws IOException {
    ObjectWriter writer = store.newWriter("k");
    writer.write(bytes("kept"), 0, 4);
    writer.commit();
    writer.abort();
    writer.close();
    assertThat(read("k")).isEqualTo(bytes("kept"));
  }

  @Test
  void abortingOneWriterDoesNotDisturbTheExistingObject() throws IOException {
    put("k", bytes("old"));
    try (ObjectWriter writer = store.newWriter("k")) {
      writer.write(bytes("new but aborted"), 0, 15);
    }
    assertThat(read("k")).isEqualTo(bytes("old"));
  }

  @Test
  void commitReplacesExistingObject() throws IOException {
    put("k", bytes("the old, longer content"));
    put("k", bytes("new"));
    assertThat(read("k")).isEqualTo(bytes("new"));
    assertThat(store.stat("k").orElseThrow().size()).isEqualTo(3);
    assertThat(keys("")).containsExactly("k");
  }

  @Test
  void putFileStoresAndConsumesTheFile() throws IOException {
    Path file = scratch.resolve("upload");
    byte[] content = randomBytes(7, 100_000);
    Files.write(file, content);
    store.putFile("from/file", file);
    assertThat(file).doesNotExist();
    assertThat(read("from/file")).isEqualTo(content);
  }

  // ---- ranges ----

  @Test
  void rangedOpenReturnsExactlyTheRange() throws IOException {
    byte[] content = bytes("0123456789");
    put("r", content);
    assertThat(read("r", new ByteRange(0, 0))).isEqualTo(bytes("0"));
    assertThat(read("r", new ByteRange(3, 6))).isEqualTo(bytes("3456"));
    assertThat(read("r", new ByteRange(9, 9))).isEqualTo(bytes("9"));
    assertThat(read("r", ByteRange.whole(10))).isEqualTo(content);
    assertThat(read("r", null)).isEqualTo(content);
  }

  @Test
  void rangePastTheEndIsCutAndRangeStartingPastTheEndFails() throws IOException {
    put("r", bytes("0123456789"));
    assertThat(read("r", new ByteRange(7, 100))).isEqualTo(bytes("789"));
    assertThatThrownBy(() -> read("r", new ByteRange(10, 12)))
        .isInstanceOf(IOException.class)
        .isNotInstanceOf(NoSuchObjectException.class);
  }

  @Test
  void skippingWithinARangeStaysInsideIt() throws IOException {
    put("r", bytes("0123456789"));
    try (InputStream in = store.open("r", new ByteRange(2, 7))) {
      assertThat(in.skip(3)).isEqualTo(3);
      assertThat(in.readAllBytes()).isEqualTo(bytes("567"));
    }
  }

  // ---- missing, delete, list ----

  @Test
  void missingKeyIsEmptyStatAndNoSuchObject() throws IOException {
    assertThat(store.stat("no/such/key")).isEmpty();
    assertThatThrownBy(() -> store.open("no/such/key", null))
        .isInstanceOf(NoSuchObjectException.class)
        .hasMessageContaining("no/such/key");
    assertThatThrownBy(() -> store.open("no/such/key", new ByteRange(0, 0)))
        .isInstanceOf(NoSuchObjectException.class);
  }

  @Test
  void aPrefixOfAKeyIsNotAnObject() throws IOException {
    put("dir/sub/leaf", bytes("x"));
    assertThat(store.stat("dir/sub")).isEmpty();
    assertThatThrownBy(() -> store.open("dir/sub", null)).isInstanceOf(NoSuchObjectException.class);
    assertThat(store.delete("dir/sub")).isFalse();
    assertThat(store.stat("dir/sub/leaf/below")).isEmpty();
    assertThat(read("dir/sub/leaf")).isEqualTo(bytes("x"));
  }

  @Test
  void deleteRemovesTheObject() throws IOException {
    put("d/1", bytes("one"));
    put("d/2", bytes("two"));
    assertThat(store.delete("d/1")).isTrue();
    assertThat(store.delete("d/1")).isFalse();
    assertThat(store.delete("never/was")).isFalse();
    assertThat(store.stat("d/1")).isEmpty();
    assertThatThrownBy(() -> store.open("d/1", null)).isInstanceOf(NoSuchObjectException.class);
    assertThat(keys("")).containsExactly("d/2");
  }

  @Test
  void listReturnsKeysWithThePrefixSorted() throws IOException {
    for (String key : List.of("a/b/2", "b/x", "a/b/10", "a/c", "a/b/1", "ab/z")) {
      put(key, bytes(key));
    }
    assertThat(keys("a/b/")).containsExactly("a/b/1", "a/b/10", "a/b/2");
    assertThat(keys("a/")).containsExactly("a/b/1", "a/b/10", "a/b/2", "a/c");
    assertThat(keys("a")).containsExactly("a/b/1", "a/b/10", "a/b/2", "a/c", "ab/z");
    assertThat(keys("a/b/1")).containsExactly("a/b/1", "a/b/10");
    assertThat(keys("")).containsExactly("a/b/1", "a/b/10", "a/b/2", "a/c", "ab/z", "b/x");
    assertThat(keys("zzz/")).isEmpty();
    ObjectInfo info = store.list("b/").getFirst();
    assertThat(info.size()).isEqualTo(3);
    assertThat(info.lastModified()).isNotNull();
  }

  @Test
  void keysThatCouldEscapeARootAreRejected() {
    for (String bad :
        List.of("", "/abs", "../up", "a/../../up", "a//b", "a/", "a\\b", "./a", ".tmp/x", "c:x")) {
      assertThatThrownBy(() -> store.newWriter(bad))
          .as("newWriter(%s)", bad)
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> store.open(bad, null))
          .as("open(%s)", bad)
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> store.stat(bad))
          .as("stat(%s)", bad)
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> store.delete(bad))
          .as("delete(%s)", bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> store.list("../")).isInstanceOf(IllegalArgumentException.class);
  }

  // ---- concurrency and size ----

  @Test
  @Timeout(60)
  void concurrentWritersToOneKeyLeaveExactlyOnePayload() throws Exception {
    int writers = 8;
    int size = 256 * 1024;
    List<byte[]> payloads = new ArrayList<>();
    for (int i = 0; i < writers; i++) {
      payloads.add(randomBytes(i, size + i)); // distinct content and length
    }
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    try {
      for (int round = 0; round < 5; round++) {
        CyclicBarrier start = new CyclicBarrier(writers);
        CyclicBarrier beforeCommit = new CyclicBarrier(writers);
        List<Future<?>> done = new ArrayList<>();
        for (byte[] payload : payloads) {
          done.add(
              pool.submit(() -> {
                start.await();
                try (ObjectWriter writer = store.newWriter("contended")) {
                  for (int off = 0; off < payload.length; off += 4096) {
                    writer.write(payload, off, Math.min(4096, payload.length - off));
                  }
                  beforeCommit.await();
                  writer.commit();
                }
                return null;
              }));
        }
        for (Future<?> f : done) {
          f.get(30, TimeUnit.SECONDS);
        }
        byte[] result = read("contended");
        assertThat(payloads).anySatisfy(p -> assertThat(result).isEqualTo(p));
        assertThat(store.stat("contended").orElseThrow().size()).isEqualTo(result.length);
        assertThat(keys("")).containsExactly("contended");
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  @Timeout(60)
  void readersSeeOldOrNewWhileReplacing() throws Exception {
    List<byte[]> versions = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      versions.add(randomBytes(100 + i, 64 * 1024 + i * 1000));
    }
    put("hot", versions.get(0));
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger reads = new AtomicInteger();
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    Set<String> valid = new HashSet<>();
    for (byte[] v : versions) {
      valid.add(sha256(v));
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      for (int r = 0; r < 4; r++) {
        pool.submit(() -> {
          while (!stop.get()) {
            try (InputStream in = store.open("hot", null)) {
              byte[] got = readInSmallChunks(in, 1000);
              if (!valid.contains(sha256(got))) {
                failures.add(new AssertionError("read a mix of " + got.length + " bytes"));
              }
              reads.incrementAndGet();
            } catch (Throwable t) {
              failures.add(t);
            }
          }
        });
      }
      for (int i = 0; i < 200; i++) {
        put("hot", versions.get(i % versions.size()));
      }
    } finally {
      stop.set(true);
      pool.shutdown();
      assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(failures).isEmpty();
    assertThat(reads.get()).isPositive();
  }

  @Test
  @Timeout(120)
  void largeObjectStreamsThroughInSmallChunks() throws Exception {
    int size = 20 * 1024 * 1024;
    int chunk = 8 * 1024 + 7;
    MessageDigest written = MessageDigest.getInstance("SHA-256");
    Random random = new Random(42);
    byte[] buffer = new byte[chunk];
    byte[] lastByte = new byte[1];
    try (ObjectWriter writer = store.newWriter("big/object")) {
      for (int remaining = size; remaining > 0; ) {
        int n = Math.min(chunk, remaining);
        random.nextBytes(buffer);
        writer.write(buffer, 0, n);
        written.update(buffer, 0, n);
        lastByte[0] = buffer[n - 1];
        remaining -= n;
      }
      writer.commit();
    }
    assertThat(store.stat("big/object").orElseThrow().size()).isEqualTo(size);
    MessageDigest read = MessageDigest.getInstance("SHA-256");
    long total = 0;
    try (InputStream in = store.open("big/object", null)) {
      byte[] small = new byte[4096];
      for (int n; (n = in.read(small)) >= 0; ) {
        read.update(small, 0, n);
        total += n;
      }
    }
    assertThat(total).isEqualTo(size);
    assertThat(read.digest()).isEqualTo(written.digest());
    assertThat(read("big/object", new ByteRange(size - 1, size - 1))).isEqualTo(lastByte);
  }

  @Test
  void putIfAbsentCreatesOnceAndNeverOverwrites() throws Exception {
    assertThat(store.putIfAbsent("leases/a", "first".getBytes(StandardCharsets.UTF_8))).isTrue();
    assertThat(store.putIfAbsent("leases/a", "second".getBytes(StandardCharsets.UTF_8))).isFalse();
    assertThat(read("leases/a", null)).isEqualTo("first".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void concurrentPutIfAbsentHasExactlyOneWinner() throws Exception {
    int threads = 8;
    CyclicBarrier start = new CyclicBarrier(threads);
    List<Future<Boolean>> results = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
      for (int i = 0; i < threads; i++) {
        byte[] content = ("owner-" + i).getBytes(StandardCharsets.UTF_8);
        results.add(
            pool.submit(() -> {
              start.await();
              return store.putIfAbsent("leases/race", content);
            }));
      }
      int winners = 0;
      for (Future<Boolean> result : results) {
        winners += result.get() ? 1 : 0;
      }
      assertThat(winners).isEqualTo(1);
    }
    assertThat(new String(read("leases/race", null), StandardCharsets.UTF_8)).startsWith("owner-");
  }

  private static byte[] readInSmallChunks(InputStream in, int chunk) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[chunk];
    for (int n; (n = in.read(buf)) >= 0; ) {
      out.write(buf, 0, n);
    }
    return out.toByteArray();
  }

  private static String sha256(byte[] content) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
