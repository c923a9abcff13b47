package io.transship.storage;

import io.transship.oci.ByteRange;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An {@link ObjectStore} in a {@link ConcurrentHashMap}, for tests. Honours the whole SPI contract,
 * including key validation: a commit swaps in an immutable byte array, so readers always see one
 * complete version.
 */
public final class InMemoryObjectStore implements ObjectStore {

  private record Entry(byte[] bytes, Instant lastModified) {}

  private final ConcurrentHashMap<String, Entry> objects = new ConcurrentHashMap<>();

  @Override
  public boolean putIfAbsent(String key, byte[] content) {
    StorageKeys.validate(key);
    return objects.putIfAbsent(key, new Entry(content.clone(), Instant.now())) == null;
  }

  @Override
  public Optional<ObjectInfo> stat(String key) {
    StorageKeys.validate(key);
    Entry entry = objects.get(key);
    return entry == null ? Optional.empty() : Optional.of(info(key, entry));
  }

  @Override
  public InputStream open(String key, ByteRange range) throws IOException {
    StorageKeys.validate(key);
    Entry entry = objects.get(key);
    if (entry == null) {
      throw new NoSuchObjectException(key);
    }
    byte[] bytes = entry.bytes();
    if (range == null) {
      return new ByteArrayInputStream(bytes);
    }
    long length = Ranges.clampedLength(key, range, bytes.length);
    return new ByteArrayInputStream(bytes, (int) range.first(), (int) length);
  }

  @Override
  public ObjectWriter newWriter(String key) {
    StorageKeys.validate(key);
    return new Writer(key);
  }

  @Override
  public boolean delete(String key) {
    StorageKeys.validate(key);
    return objects.remove(key) != null;
  }

  @Override
  public List<ObjectInfo> list(String prefix) {
    StorageKeys.validatePrefix(prefix);
    return objects.entrySet().stream()
        .filter(e -> e.getKey().startsWith(prefix))
        .map(e -> info(e.getKey(), e.getValue()))
        .sorted(Comparator.comparing(ObjectInfo::key))
        .toList();
  }

  private static ObjectInfo info(String key, Entry entry) {
    return new ObjectInfo(key, entry.bytes().length, entry.lastModified());
  }

  private final class Writer implements ObjectWriter {
    private final String key;
    private ByteArrayOutputStream buffer = new ByteArrayOutputStream();

    Writer(String key) {
      this.key = key;
    }

    @Override
    public void write(byte[] b, int offset, int length) throws IOException {
      open().write(b, offset, length);
    }

    @Override
    public long written() {
      return buffer == null ? 0 : buffer.size();
    }

    @Override
    public void commit() throws IOException {
      byte[] bytes = open().toByteArray();
      buffer = null;
      objects.put(key, new Entry(bytes, Instant.now()));
    }

    @Override
    public void abort() {
      buffer = null;
    }

    private ByteArrayOutputStream open() throws IOException {
      if (buffer == null) {
        throw new IOException("writer for " + key + " is already committed or aborted");
      }
      return buffer;
    }
  }
}
