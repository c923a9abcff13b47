package io.transship.storage;

import io.transship.oci.ByteRange;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A size bound over a local store: least-recently-used eviction of {@link ContentKind#CONTENT}
 * only. Records ({@link ContentKind#RECORD}: tag records, the conversion index, origins) are never
 * evicted and do not count against the bound, so whatever content is evicted can be found again (an
 * original from its upstream) or rebuilt (a converted blob from its recorded origin).
 *
 * <p>The index key &rarr; size is built at start from the objects present, oldest modification
 * first, and ordered by last access: a commit, {@link #open} or {@link #localFile}. After every
 * commit it deletes whole objects, least recently used first, until {@link #contentBytes()} is at
 * most {@code maxBytes}. The object just committed and objects being written are never evicted, so
 * one object larger than the bound stays alone. Every {@link EvictionListener} hears of each
 * eviction (after the file is gone), so in-memory caches never serve what the store lost.
 */
public final class BoundedObjectStore implements LocalObjectStore {
  private static final Logger LOG = LoggerFactory.getLogger(BoundedObjectStore.class);

  private final LocalObjectStore delegate;
  private final long maxBytes;
  private final List<EvictionListener> listeners = new CopyOnWriteArrayList<>();

  /** Guards {@link #lru}, {@link #contentBytes}, {@link #writing} and {@link #evictions}. */
  private final Object lock = new Object();

  private final LinkedHashMap<String, Long> lru = new LinkedHashMap<>(1024, 0.75f, true);
  private final Map<String, Integer> writing = new HashMap<>();
  private long contentBytes;
  private long evictions;

  /**
   * Bounds {@code delegate} to {@code maxBytes} bytes of content ({@code <= 0}: unbounded, only
   * counted). Indexes the content present and evicts at once if it exceeds the bound.
   */
  public BoundedObjectStore(LocalObjectStore delegate, long maxBytes) throws IOException {
    this.delegate = delegate;
    this.maxBytes = maxBytes;
    List<ObjectInfo> present = new ArrayList<>();
    for (ObjectInfo info : delegate.list("")) {
      if (StorageKeys.kindOf(info.key()) == ContentKind.CONTENT) {
        present.add(info);
      }
    }
    present.sort(Comparator.comparing(ObjectInfo::lastModified));
    List<Map.Entry<String, Long>> evicted;
    synchronized (lock) {
      for (ObjectInfo info : present) {
        lru.put(info.key(), info.size());
        contentBytes += info.size();
      }
      evicted = evictLocked(null);
    }
    notifyEvicted(evicted);
    LOG.debug("indexed {} objects, {} bytes of content", present.size(), contentBytes());
  }

  /** Hears of every eviction from now on. */
  public void addEvictionListener(EvictionListener listener) {
    listeners.add(listener);
  }

  /** The size bound, {@code <= 0} when unbounded. */
  public long maxBytes() {
    return maxBytes;
  }

  /** Bytes of content held (records not counted). */
  public long contentBytes() {
    synchronized (lock) {
      return contentBytes;
    }
  }

  /** Content objects held. */
  public int contentObjects() {
    synchronized (lock) {
      return lru.size();
    }
  }

  /** Objects evicted since start. */
  public long evictions() {
    synchronized (lock) {
      return evictions;
    }
  }

  /** The store this one bounds. */
  public LocalObjectStore delegate() {
    return delegate;
  }

  @Override
  public Optional<ObjectInfo> stat(String key) throws IOException {
    return delegate.stat(key);
  }

  @Override
  public InputStream open(String key, ByteRange range) throws IOException {
    InputStream in = delegate.open(key, range);
    touch(key);
    return in;
  }

  @Override
  public Optional<Path> localFile(String key) {
    Optional<Path> file = delegate.localFile(key);
    if (file.isPresent()) {
      touch(key);
    }
    return file;
  }

  @Override
  public ObjectWriter newWriter(String key) throws IOException {
    ObjectWriter writer = delegate.newWriter(key);
    startWriting(key);
    return new ObjectWriter() {
      private boolean ended;

      @Override
      public void write(byte[] buffer, int offset, int length) throws IOException {
        writer.write(buffer, offset, length);
      }

      @Override
      public long written() {
        return writer.written();
      }

      @Override
      public void commit() throws IOException {
        try {
          writer.commit();
          // indexed while still marked as being written: no other commit's eviction can take it
          committed(key, writer.written());
        } finally {
          end();
        }
      }

      @Override
      public void abort() {
        writer.abort();
        end();
      }

      private void end() {
        if (!ended) {
          ended = true;
          stopWriting(key);
        }
      }
    };
  }

  @Override
  public void putFile(String key, Path file) throws IOException {
    long size = java.nio.file.Files.size(file);
    startWriting(key);
    try {
      delegate.putFile(key, file);
      committed(key, size); // indexed while still marked as being written
    } finally {
      stopWriting(key);
    }
  }

  @Override
  public boolean putIfAbsent(String key, byte[] content) throws IOException {
    startWriting(key);
    try {
      boolean created = delegate.putIfAbsent(key, content);
      if (created) {
        committed(key, content.length); // indexed while still marked as being written
      }
      return created;
    } finally {
      stopWriting(key);
    }
  }

  @Override
  public boolean delete(String key) throws IOException {
    synchronized (lock) {
      Long size = lru.remove(key);
      if (size != null) {
        contentBytes -= size;
      }
      return delegate.delete(key);
    }
  }

  @Override
  public List<ObjectInfo> list(String prefix) throws IOException {
    return delegate.list(prefix);
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }

  // ---- internals ----

  private void touch(String key) {
    synchronized (lock) {
      lru.get(key);
    }
  }

  private void startWriting(String key) {
    synchronized (lock) {
      writing.merge(key, 1, Integer::sum);
    }
  }

  private void stopWriting(String key) {
    synchronized (lock) {
      writing.computeIfPresent(key, (k, n) -> n == 1 ? null : n - 1);
    }
  }

  private void committed(String key, long size) {
    if (StorageKeys.kindOf(key) != ContentKind.CONTENT) {
      return;
    }
    List<Map.Entry<String, Long>> evicted;
    synchronized (lock) {
      Long previous = lru.put(key, size);
      contentBytes += size - (previous == null ? 0 : previous);
      evicted = evictLocked(key);
    }
    notifyEvicted(evicted);
  }

  /** Deletes least recently used content until within bounds, sparing {@code keep}. */
  private List<Map.Entry<String, Long>> evictLocked(String keep) {
    if (maxBytes <= 0 || contentBytes <= maxBytes) {
      return List.of();
    }
    List<Map.Entry<String, Long>> evicted = new ArrayList<>();
    Iterator<Map.Entry<String, Long>> it = lru.entrySet().iterator();
    while (contentBytes > maxBytes && it.hasNext()) {
      Map.Entry<String, Long> eldest = it.next();
      String key = eldest.getKey();
      if (key.equals(keep) || writing.containsKey(key)) {
        continue;
      }
      try {
        delegate.delete(key);
      } catch (IOException e) {
        LOG.warn("cannot evict {}: {}", key, e.toString());
        continue;
      }
      it.remove();
      contentBytes -= eldest.getValue();
      evictions++;
      evicted.add(Map.entry(key, eldest.getValue()));
      LOG.debug(
          "evicted {} ({} bytes), {} of {} bytes used",
          key,
          eldest.getValue(),
          contentBytes,
          maxBytes);
    }
    return evicted;
  }

  private void notifyEvicted(List<Map.Entry<String, Long>> evicted) {
    for (Map.Entry<String, Long> entry : evicted) {
      String key = entry.getKey();
      for (EvictionListener listener : listeners) {
        try {
          listener.evicted(key, entry.getValue());
        } catch (RuntimeException e) {
          LOG.warn("eviction listener failed for {}: {}", key, e.toString());
        }
      }
    }
  }
}
