package io.transship.storage;

import io.transship.oci.ByteRange;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link ObjectStore} of plain files under a root directory, one file per key, optionally
 * bounded in size by least-recently-used eviction.
 *
 * <p><b>Atomicity.</b> A writer writes {@code <root>/.tmp/<random>.part}, forces it to disk and
 * renames it into place ({@code ATOMIC_MOVE}, replacing), then forces the parent directory. A file
 * under its key is therefore always complete; a process killed mid-write leaves only a {@code .tmp}
 * file, which the next start deletes. Readers hold the inode they opened, so a replacement or an
 * eviction never changes bytes being read (POSIX unlink semantics). One process per root: a second
 * instance on the same root deletes the first one's pending writes.
 *
 * <p><b>Eviction.</b> With {@code maxBytes > 0} the store keeps an in-memory index key &rarr; size
 * (built by scanning the root at start, oldest modification first), ordered by last access: a
 * commit, {@link #open} or {@link #localFile}. After every commit it deletes whole files, least
 * recently used first, until {@link #totalBytes()} is at most {@code maxBytes}; the object just
 * committed is never evicted, so one object larger than the bound stays alone. Renames into place,
 * deletions and index updates happen under one lock, so the index always matches the files this
 * process wrote. Directories are never removed (removing them would race with concurrent commits).
 */
public final class FilesystemObjectStore implements ObjectStore, LocalFiles {

  private static final Logger log = LoggerFactory.getLogger(FilesystemObjectStore.class);

  /** The directory under the root that holds pending writes. */
  public static final String TMP_DIR = ".tmp";

  private static final int WRITE_BUFFER = 64 * 1024;

  private final Path root;
  private final Path tmp;
  private final long maxBytes;

  /** Guards {@link #index}, {@link #totalBytes} and every rename into place or delete. */
  private final Object lock = new Object();

  private final LinkedHashMap<String, Long> index = new LinkedHashMap<>(1024, 0.75f, true);
  private volatile EvictionListener evictionListener = EvictionListener.NONE;
  private long totalBytes;

  /** An unbounded store under {@code root}. */
  public FilesystemObjectStore(Path root) throws IOException {
    this(root, 0);
  }

  /**
   * A store under {@code root} (created if missing) holding at most {@code maxBytes} bytes ({@code
   * <= 0}: unbounded). Deletes leftover pending writes and indexes the existing objects, evicting
   * at once if they exceed the bound.
   */
  public FilesystemObjectStore(Path root, long maxBytes) throws IOException {
    this.root = root.toAbsolutePath().normalize();
    this.tmp = this.root.resolve(TMP_DIR);
    this.maxBytes = maxBytes;
    Files.createDirectories(this.tmp);
    deleteLeftoverWrites();
    scan();
    synchronized (lock) {
      evictLocked(null);
    }
  }

  /** The root directory. */
  public Path root() {
    return root;
  }

  /** The size bound, {@code <= 0} when unbounded. */
  public long maxBytes() {
    return maxBytes;
  }

  /** Bytes held by the indexed objects, for metrics. */
  public long totalBytes() {
    synchronized (lock) {
      return totalBytes;
    }
  }

  /** Objects in the index, for metrics. */
  public int objectCount() {
    synchronized (lock) {
      return index.size();
    }
  }

  /** Who to tell about evictions (metrics); replaces the previous listener. */
  public void onEviction(EvictionListener listener) {
    this.evictionListener = listener == null ? EvictionListener.NONE : listener;
  }

  @Override
  public Optional<ObjectInfo> stat(String key) throws IOException {
    Path path = path(key);
    try {
      BasicFileAttributes attrs = Files.readAttributes(path, BasicFileAttributes.class);
      if (!attrs.isRegularFile()) {
        return Optional.empty();
      }
      return Optional.of(new ObjectInfo(key, attrs.size(), attrs.lastModifiedTime().toInstant()));
    } catch (FileSystemException e) {
      if (isMissing(e, path)) {
        return Optional.empty();
      }
      throw e;
    }
  }

  @Override
  public InputStream open(String key, ByteRange range) throws IOException {
    Path path = path(key);
    FileChannel channel;
    try {
      channel = FileChannel.open(path, StandardOpenOption.READ);
    } catch (FileSystemException e) {
      if (isMissing(e, path)) {
        throw new NoSuchObjectException(key);
      }
      throw e;
    }
    try {
      if (Files.isDirectory(path)) {
        throw new NoSuchObjectException(key);
      }
      touch(key);
      long size = channel.size();
      if (range == null) {
        return new FileRangeInputStream(channel, size);
      }
      long length = Ranges.clampedLength(key, range, size);
      channel.position(range.first());
      return new FileRangeInputStream(channel, length);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  @Override
  public Optional<Path> localFile(String key) {
    Path path = path(key);
    if (!Files.isRegularFile(path)) {
      return Optional.empty();
    }
    touch(key);
    return Optional.of(path);
  }

  @Override
  public ObjectWriter newWriter(String key) throws IOException {
    Path target = path(key);
    Path pending = tmp.resolve(UUID.randomUUID() + ".part");
    FileChannel channel =
        FileChannel.open(pending, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    return new Writer(key, target, pending, channel);
  }

  /**
   * Moves {@code file} into place atomically when it is on this store's filesystem (after forcing
   * it to disk); otherwise copies it through a writer and deletes it. Either way the file is gone
   * afterwards, also on failure.
   */
  @Override
  public void putFile(String key, Path file) throws IOException {
    Path target = path(key);
    try {
      long size = Files.size(file);
      try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
        channel.force(true);
      }
      try {
        install(key, target, file, size);
        return;
      } catch (AtomicMoveNotSupportedException e) {
        log.debug("{} is on another filesystem than {}, copying", file, root);
      }
      try (ObjectWriter writer = newWriter(key);
          InputStream in = Files.newInputStream(file)) {
        in.transferTo(writer.asOutputStream());
        writer.commit();
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }

  /** Atomic: the pending file is hard-linked into place, which fails when the key exists. */
  @Override
  public boolean putIfAbsent(String key, byte[] content) throws IOException {
    Path target = path(key);
    Path pending = tmp.resolve(UUID.randomUUID() + ".part");
    try {
      Files.write(pending, content, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      try (FileChannel channel = FileChannel.open(pending, StandardOpenOption.READ)) {
        channel.force(true);
      }
      Files.createDirectories(target.getParent());
      synchronized (lock) {
        try {
          Files.createLink(target, pending);
        } catch (java.nio.file.FileAlreadyExistsException e) {
          return false;
        }
        Long previous = index.put(key, (long) content.length);
        totalBytes += content.length - (previous == null ? 0 : previous);
        evictLocked(key);
      }
      forceDirectory(target.getParent());
      return true;
    } finally {
      Files.deleteIfExists(pending);
    }
  }

  @Override
  public boolean delete(String key) throws IOException {
    Path path = path(key);
    synchronized (lock) {
      boolean existed =
          Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS) && Files.deleteIfExists(path);
      Long size = index.remove(key);
      if (size != null) {
        totalBytes -= size;
      }
      return existed;
    }
  }

  @Override
  public List<ObjectInfo> list(String prefix) throws IOException {
    StorageKeys.validatePrefix(prefix);
    int slash = prefix.lastIndexOf('/');
    Path start = slash < 0 ? root : root.resolve(prefix.substring(0, slash));
    if (!Files.isDirectory(start, LinkOption.NOFOLLOW_LINKS)) {
      return List.of();
    }
    List<ObjectInfo> found = new ArrayList<>();
    Files.walkFileTree(
        start,
        new SkippingVisitor(start) {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
              throws IOException {
            FileVisitResult result = super.preVisitDirectory(dir, attrs);
            if (result == FileVisitResult.CONTINUE && !dir.equals(start)) {
              String dirKey = keyOf(dir) + "/";
              if (!dirKey.startsWith(prefix) && !prefix.startsWith(dirKey)) {
                return FileVisitResult.SKIP_SUBTREE;
              }
            }
            return result;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            String key = keyOf(file);
            if (attrs.isRegularFile() && key.startsWith(prefix) && isValidKey(key)) {
              found.add(new ObjectInfo(key, attrs.size(), attrs.lastModifiedTime().toInstant()));
            }
            return FileVisitResult.CONTINUE;
          }
        });
    found.sort(Comparator.comparing(ObjectInfo::key));
    return found;
  }

  // ---- internals ----

  /** The file of a validated key, never outside the root. */
  private Path path(String key) {
    Path path = root.resolve(StorageKeys.validate(key)).normalize();
    if (!path.startsWith(root) || path.equals(root) || path.startsWith(tmp)) {
      throw new IllegalArgumentException("object key escapes the store root: " + key);
    }
    return path;
  }

  private String keyOf(Path file) {
    Path relative = root.relativize(file);
    StringBuilder key = new StringBuilder();
    for (Path part : relative) {
      if (!key.isEmpty()) {
        key.append('/');
      }
      key.append(part);
    }
    return key.toString();
  }

  private static boolean isValidKey(String key) {
    try {
      StorageKeys.validate(key);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static boolean isMissing(FileSystemException e, Path path) {
    // ENOTDIR (a path component is a file) is not a NoSuchFileException
    return e instanceof NoSuchFileException || !Files.exists(path);
  }

  private void touch(String key) {
    synchronized (lock) {
      index.get(key);
    }
  }

  /** Renames {@code source} to {@code target} and indexes it, then evicts and syncs the dir. */
  private void install(String key, Path target, Path source, long size) throws IOException {
    Path parent = target.getParent();
    Files.createDirectories(parent);
    synchronized (lock) {
      Files.move(
          source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      Long previous = index.put(key, size);
      totalBytes += size - (previous == null ? 0 : previous);
      evictLocked(key);
    }
    forceDirectory(parent);
  }

  /** Deletes least recently used objects until within bounds, sparing {@code keep}. */
  private void evictLocked(String keep) {
    if (maxBytes <= 0) {
      return;
    }
    Iterator<Map.Entry<String, Long>> it = index.entrySet().iterator();
    while (totalBytes > maxBytes && it.hasNext()) {
      Map.Entry<String, Long> eldest = it.next();
      String key = eldest.getKey();
      if (key.equals(keep)) {
        continue;
      }
      try {
        Files.deleteIfExists(path(key));
      } catch (IOException e) {
        log.warn("cannot evict {}: {}", key, e.toString());
        continue;
      }
      it.remove();
      totalBytes -= eldest.getValue();
      evictionListener.evicted(key, eldest.getValue());
      log.debug(
          "evicted {} ({} bytes), {} of {} bytes used",
          key,
          eldest.getValue(),
          totalBytes,
          maxBytes);
    }
  }

  private static void forceDirectory(Path dir) {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException e) {
      // not every platform can sync a directory; the rename itself is still atomic
      log.trace("cannot sync directory {}: {}", dir, e.toString());
    }
  }

  private void deleteLeftoverWrites() throws IOException {
    Files.walkFileTree(
        tmp,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            log.debug("deleting leftover pending write {}", file);
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
            if (e != null) {
              throw e;
            }
            if (!dir.equals(tmp)) {
              Files.deleteIfExists(dir);
            }
            return FileVisitResult.CONTINUE;
          }
        });
  }

  private record Found(String key, long size, Instant lastModified) {}

  private void scan() throws IOException {
    List<Found> found = new ArrayList<>();
    Files.walkFileTree(
        root,
        new SkippingVisitor(root) {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            String key = keyOf(file);
            if (attrs.isRegularFile() && isValidKey(key)) {
              found.add(new Found(key, attrs.size(), attrs.lastModifiedTime().toInstant()));
            }
            return FileVisitResult.CONTINUE;
          }
        });
    found.sort(Comparator.comparing(Found::lastModified));
    synchronized (lock) {
      for (Found f : found) {
        index.put(f.key(), f.size());
        totalBytes += f.size();
      }
    }
    log.debug("indexed {} objects, {} bytes, under {}", found.size(), totalBytes(), root);
  }

  /**
   * Walks object files: skips dot-directories (the pending-write directory among them) below the
   * start, and tolerates files that vanish meanwhile.
   */
  private abstract static class SkippingVisitor extends SimpleFileVisitor<Path> {
    private final Path start;

    SkippingVisitor(Path start) {
      this.start = start;
    }

    @Override
    public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
        throws IOException {
      if (!dir.equals(start) && dir.getFileName().toString().startsWith(".")) {
        return FileVisitResult.SKIP_SUBTREE;
      }
      return FileVisitResult.CONTINUE;
    }

    @Override
    public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
      if (e instanceof NoSuchFileException) {
        return FileVisitResult.CONTINUE;
      }
      throw e;
    }

    @Override
    public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
      if (e != null && !(e instanceof NoSuchFileException)) {
        throw e;
      }
      return FileVisitResult.CONTINUE;
    }
  }

  private final class Writer implements ObjectWriter {
    private final String key;
    private final Path target;
    private final Path pending;
    private final FileChannel channel;
    private final OutputStream out;
    private long written;
    private boolean finished;

    Writer(String key, Path target, Path pending, FileChannel channel) {
      this.key = key;
      this.target = target;
      this.pending = pending;
      this.channel = channel;
      this.out = new BufferedOutputStream(Channels.newOutputStream(channel), WRITE_BUFFER);
    }

    @Override
    public void write(byte[] buffer, int offset, int length) throws IOException {
      ensureOpen();
      out.write(buffer, offset, length);
      written += length;
    }

    @Override
    public long written() {
      return written;
    }

    @Override
    public void commit() throws IOException {
      ensureOpen();
      try {
        out.flush();
        channel.force(true);
        out.close();
        finished = true;
        install(key, target, pending, written);
      } catch (IOException | RuntimeException e) {
        finished = false;
        abort();
        throw e;
      }
    }

    @Override
    public void abort() {
      if (finished) {
        return;
      }
      finished = true;
      try {
        channel.close(); // not out.close(): no point flushing what is discarded
        Files.deleteIfExists(pending);
      } catch (IOException e) {
        // the next start deletes it
        log.warn("cannot delete pending write {}: {}", pending, e.toString());
      }
    }

    private void ensureOpen() throws IOException {
      if (finished) {
        throw new IOException("writer for " + key + " is already committed or aborted");
      }
    }
  }
}
