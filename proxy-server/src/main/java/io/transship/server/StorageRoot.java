package io.transship.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The storage root, claimed by one process: created when missing (or a one-line reason why it can't
 * be), then locked with {@code <root>/.lock} ({@link FileChannel#tryLock}, released by the OS when
 * the process dies). A second process on the same root stops before it touches anything — in
 * particular before the store empties {@code .tmp/}, where the first one's downloads live.
 */
final class StorageRoot implements AutoCloseable {
  static final String LOCK_FILE = ".lock";
  private static final String FIX =
      "set storage.filesystem.root (or TRANSSHIP_STORAGE__FILESYSTEM__ROOT)";

  private final FileChannel channel;
  private final FileLock lock;

  private StorageRoot(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /** Creates and locks {@code root}; throws a {@link StartupException} with the reason. */
  static StorageRoot claim(Path root) {
    try {
      Files.createDirectories(root);
    } catch (FileAlreadyExistsException e) {
      throw new StartupException(
          "storage root " + root + " exists and is not a directory; " + FIX, 1);
    } catch (AccessDeniedException e) {
      throw new StartupException(
          "storage root "
              + root
              + ": permission denied creating "
              + e.getFile()
              + " (running as "
              + System.getProperty("user.name")
              + "); create it for this user or "
              + FIX,
          1);
    } catch (FileSystemException e) {
      throw new StartupException("storage root " + root + ": " + reason(e) + "; " + FIX, 1);
    } catch (IOException e) {
      throw new StartupException("storage root " + root + ": " + e.getMessage(), 1);
    }
    if (!Files.isWritable(root)) {
      throw new StartupException(
          "storage root "
              + root
              + " is not writable by "
              + System.getProperty("user.name")
              + " (owner or mode); fix its permissions or "
              + FIX,
          1);
    }
    Path file = root.resolve(LOCK_FILE);
    FileChannel channel;
    try {
      channel =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (FileSystemException e) {
      throw new StartupException("storage root " + root + ": " + reason(e) + "; " + FIX, 1);
    } catch (IOException e) {
      throw new StartupException("cannot open " + file + ": " + e.getMessage(), 1);
    }
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null; // this very JVM holds it: another Transship on the same root
    } catch (IOException e) {
      closeQuietly(channel);
      throw new StartupException("cannot lock " + file + ": " + e.getMessage(), 1);
    }
    if (lock == null) {
      String holder = holder(channel);
      closeQuietly(channel);
      throw new StartupException(
          "storage root "
              + root
              + " is in use by another transship"
              + (holder.isEmpty() ? "" : " (pid " + holder + ")")
              + "; stop it, or give this one its own root: "
              + FIX,
          2);
    }
    try {
      channel.truncate(0);
      channel.write(
          ByteBuffer.wrap(
              (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)),
          0);
      channel.force(false);
    } catch (IOException e) {
      // the lock holds without the pid; it is only for the message of a second process
    }
    return new StorageRoot(channel, lock);
  }

  private static String reason(FileSystemException e) {
    String reason = e.getReason();
    return reason == null
        ? e.getClass().getSimpleName()
        : reason.toLowerCase(java.util.Locale.ROOT);
  }

  private static String holder(FileChannel channel) {
    try {
      ByteBuffer buffer = ByteBuffer.allocate(32);
      channel.read(buffer, 0);
      return new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII).trim();
    } catch (IOException e) {
      return "";
    }
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException ignored) {
      // nothing held
    }
  }

  @Override
  public void close() {
    try {
      lock.release();
    } catch (IOException ignored) {
      // the channel's close releases it anyway
    }
    closeQuietly(channel);
  }
}
