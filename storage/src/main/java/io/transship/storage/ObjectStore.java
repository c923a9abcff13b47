package io.transship.storage;

import io.transship.oci.ByteRange;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The object-store SPI: named byte sequences under slash-separated keys (see {@link StorageKeys}).
 *
 * <p>Guarantees every implementation keeps (checked by the contract suite {@code
 * ObjectStoreContract} in this module's test jar):
 *
 * <ul>
 *   <li>an object becomes visible only whole, at {@link ObjectWriter#commit()}; a writer that is
 *       aborted, closed without commit, or interrupted by a crash leaves nothing visible;
 *   <li>a commit replaces an existing object atomically: readers see the old or the new bytes;
 *   <li>{@link #open} of a range returns exactly those bytes.
 * </ul>
 *
 * Keys are checked with {@link StorageKeys#validate}; an invalid key is an {@link
 * IllegalArgumentException}.
 *
 * <p>Optional capabilities are separate interfaces ({@link LocalFiles}, {@link Presigning}) so
 * callers ask, not assume.
 */
public interface ObjectStore extends AutoCloseable {

  /** Size and modification time of {@code key}, or empty when it does not exist. */
  Optional<ObjectInfo> stat(String key) throws IOException;

  /**
   * Opens {@code key} for reading, the whole object when {@code range} is null. A range reaching
   * past the object's end is cut at the end (the object may have been replaced by a shorter one
   * since the caller resolved the range); a range starting at or past the end fails with a plain
   * {@link IOException}.
   *
   * @throws NoSuchObjectException when the key does not exist
   */
  InputStream open(String key, ByteRange range) throws IOException;

  /** Starts writing {@code key}; nothing is visible until {@link ObjectWriter#commit()}. */
  ObjectWriter newWriter(String key) throws IOException;

  /**
   * Stores the content of a local {@code file} under {@code key}, consuming the file (it is moved
   * or deleted). Implementations on local disk move it atomically instead of copying.
   */
  default void putFile(String key, Path file) throws IOException {
    try (ObjectWriter writer = newWriter(key)) {
      java.nio.file.Files.copy(file, writer.asOutputStream());
      writer.commit();
    } finally {
      java.nio.file.Files.deleteIfExists(file);
    }
  }

  /**
   * Creates {@code key} with {@code content} only if it does not exist yet; returns whether this
   * call created it. Atomic in every implementation here (S3: a conditional {@code If-None-Match:
   * *} put), so it can serve as a lease between replicas.
   */
  default boolean putIfAbsent(String key, byte[] content) throws IOException {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " has no putIfAbsent");
  }

  /** Deletes {@code key}; returns whether it existed. */
  boolean delete(String key) throws IOException;

  /**
   * Every object whose key starts with {@code prefix} (a plain string prefix, {@code ""} for all;
   * see {@link StorageKeys#validatePrefix}), sorted by key.
   */
  List<ObjectInfo> list(String prefix) throws IOException;

  @Override
  default void close() throws IOException {}
}
