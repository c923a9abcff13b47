package io.transship.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Whole-object reads and writes of small metadata (manifests, media types, tag records) over any
 * {@link ObjectStore}. Reads refuse objects larger than a bound so a corrupt store cannot exhaust
 * the heap.
 */
public final class SmallObjects {
  /** Default read bound: 16 MiB, well above the 4 MiB manifests registries commonly accept. */
  public static final int DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

  private final ObjectStore store;
  private final int maxBytes;

  public SmallObjects(ObjectStore store) {
    this(store, DEFAULT_MAX_BYTES);
  }

  public SmallObjects(ObjectStore store, int maxBytes) {
    if (maxBytes <= 0) {
      throw new IllegalArgumentException("maxBytes must be positive");
    }
    this.store = store;
    this.maxBytes = maxBytes;
  }

  /** Stores {@code bytes} under {@code key} atomically, replacing any previous object. */
  public void putBytes(String key, byte[] bytes) throws IOException {
    try (ObjectWriter writer = store.newWriter(key)) {
      writer.write(bytes, 0, bytes.length);
      writer.commit();
    }
  }

  /**
   * The whole object under {@code key}, or empty when absent.
   *
   * @throws IOException also when the object is larger than the bound
   */
  public Optional<byte[]> getBytes(String key) throws IOException {
    try (InputStream in = store.open(key, null)) {
      byte[] bytes = in.readNBytes((int) Math.min(maxBytes + 1L, Integer.MAX_VALUE));
      if (bytes.length > maxBytes) {
        throw new IOException("object " + key + " is larger than " + maxBytes + " bytes");
      }
      return Optional.of(bytes);
    } catch (NoSuchObjectException e) {
      return Optional.empty();
    }
  }

  /** Stores {@code text} as UTF-8. */
  public void putText(String key, String text) throws IOException {
    putBytes(key, text.getBytes(StandardCharsets.UTF_8));
  }

  /** The object under {@code key} decoded as UTF-8, or empty when absent. */
  public Optional<String> getText(String key) throws IOException {
    return getBytes(key).map(bytes -> new String(bytes, StandardCharsets.UTF_8));
  }
}
