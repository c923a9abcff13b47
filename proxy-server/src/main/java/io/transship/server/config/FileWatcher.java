package io.transship.server.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls small files (certificates, keys, htpasswd) and calls back when their content changes.
 * Content is hashed on every poll rather than trusting modification times: Kubernetes secret
 * volumes and cert-manager swap symlinks, certbot rewrites in place, and a copy can keep the old
 * time. One daemon thread serves every watch.
 */
public final class FileWatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FileWatcher.class);
  private static final long MAX_FILE_BYTES = 16L << 20;

  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "transship-file-watch");
        thread.setDaemon(true);
        return thread;
      });

  /**
   * Watches {@code files}; {@code onChange} runs on the watcher thread after any of them changed (a
   * file that cannot be read counts as a change when it becomes readable again). An exception from
   * {@code onChange} is logged and the watch goes on, so a half-written renewal is picked up on the
   * next poll once complete.
   */
  public void watch(List<Path> files, Duration interval, Runnable onChange) {
    byte[][] last = {fingerprint(files)};
    long millis = Math.max(100, interval.toMillis());
    scheduler.scheduleWithFixedDelay(
        () -> {
          byte[] now = fingerprint(files);
          if (now.length == 0 || Arrays.equals(now, last[0])) {
            return;
          }
          try {
            onChange.run();
            last[0] = now;
          } catch (RuntimeException e) {
            LOG.warn(
                "reloading {} failed, keeping the previous version: {}", files, e.getMessage());
          }
        },
        millis,
        millis,
        TimeUnit.MILLISECONDS);
  }

  /** SHA-256 over every file's content; empty when one cannot be read. */
  static byte[] fingerprint(List<Path> files) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (Path file : files) {
        if (Files.size(file) > MAX_FILE_BYTES) {
          return new byte[0];
        }
        sha.update(Files.readAllBytes(file));
        sha.update((byte) 0);
      }
      return sha.digest();
    } catch (IOException e) {
      return new byte[0];
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
