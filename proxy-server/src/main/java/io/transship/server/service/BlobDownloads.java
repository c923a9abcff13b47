package io.transship.server.service;

import io.transship.oci.Digest;
import io.transship.oci.ErrorCode;
import io.transship.oci.RegistryException;
import io.transship.server.config.TransshipConfig;
import io.transship.server.routing.Route;
import io.transship.server.upstream.RegistryClient;
import io.transship.server.upstream.UpstreamResponse;
import io.transship.storage.BlobStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Single-flight upstream downloads: however many clients ask for an uncached blob at once, it is
 * fetched once. The download runs on its own virtual thread, independent of the clients (one that
 * goes away doesn't stop it), writes a spool file while hashing, resumes with a {@code Range}
 * request when the upstream connection breaks, aborts when the body stalls longer than the
 * upstream's {@code body-idle-timeout}, and commits to the {@link BlobStore} only when size and
 * digest match.
 *
 * <p>Size discipline: a download stops at the size the manifest's descriptor gave (when the caller
 * knows it), else at the upstream's {@code Content-Length}, else at {@code cache.max-blob-bytes};
 * an upstream announcing another size than the descriptor's, or more than the maximum, is refused
 * before a byte is written. Overrun or digest mismatch: every reader fails, nothing is stored.
 */
public final class BlobDownloads implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BlobDownloads.class);
  private static final int MAX_RESUMES = 3;

  private final Function<String, RegistryClient> clients;
  private final BlobStore blobs;
  private final Path spoolDir;
  private final ProxyMetrics metrics;
  private final long maxBlobBytes;
  private final SingleFlight<Digest, BlobDownload> active = new SingleFlight<>();
  private final Map<BlobDownload, Watch> watches = new ConcurrentHashMap<>();
  private final ScheduledExecutorService watchdog =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("transship-download-watchdog").factory());

  /** Progress of one running download, for the idle watchdog. */
  private static final class Watch {
    final Duration idleLimit;
    volatile long lastProgressNanos = System.nanoTime();
    volatile InputStream body;

    Watch(Duration idleLimit) {
      this.idleLimit = idleLimit;
    }
  }

  public BlobDownloads(
      Function<String, RegistryClient> clients,
      BlobStore blobs,
      Path spoolDir,
      ProxyMetrics metrics)
      throws IOException {
    this(clients, blobs, spoolDir, metrics, TransshipConfig.DEFAULT_MAX_BLOB_BYTES);
  }

  /**
   * @param maxBlobBytes the largest blob this downloads, when nothing else announces a size
   */
  public BlobDownloads(
      Function<String, RegistryClient> clients,
      BlobStore blobs,
      Path spoolDir,
      ProxyMetrics metrics,
      long maxBlobBytes)
      throws IOException {
    this.maxBlobBytes = maxBlobBytes;
    this.clients = clients;
    this.blobs = blobs;
    this.spoolDir = Files.createDirectories(spoolDir);
    this.metrics = metrics;
    watchdog.scheduleWithFixedDelay(this::abortStalled, 1, 1, TimeUnit.SECONDS);
    metrics.gauge(
        "transship.downloads.active", "Upstream blob downloads in progress", active::size);
  }

  /** The running download of {@code digest}, started if there is none. */
  BlobDownload join(Route route, Digest digest) {
    return join(route, digest, -1);
  }

  /**
   * The running download of {@code digest}, started if there is none, expecting {@code
   * expectedSize} bytes (a descriptor's size; -1 when unknown). A running download keeps the
   * expectation it was started with.
   */
  BlobDownload join(Route route, Digest digest, long expectedSize) {
    return active.join(digest, d -> start(route, d, expectedSize));
  }

  /** How many upstream downloads are running now. */
  public int activeCount() {
    return active.size();
  }

  private BlobDownload start(Route route, Digest digest, long expectedSize) {
    Path spool = spoolDir.resolve("spool-" + digest.encoded() + "-" + UUID.randomUUID() + ".part");
    BlobDownload download = new BlobDownload(digest, spool);
    download.startedFor(route);
    Watch watch = new Watch(route.upstream().bodyIdleTimeout());
    watches.put(download, watch);
    Thread.ofVirtual()
        .name("download-" + digest.encoded().substring(0, 12))
        .start(() -> run(route, download, watch, expectedSize));
    return download;
  }

  private void run(Route route, BlobDownload download, Watch watch, long expectedSize) {
    Digest digest = download.digest();
    String alias = route.upstream().alias();
    MessageDigest hasher = digest.newHasher();
    boolean stored = false;
    if (alreadyStored(digest)) {
      // the caller's miss raced with the previous download's commit: nothing to fetch (the
      // spool was never created, so readers are sent to the store)
      download.complete(() -> true);
      watches.remove(download);
      active.landed(digest, download);
      return;
    }
    try (FileChannel out = openSpool(download)) {
      long size = fetch(route, download, watch, out, hasher, expectedSize);
      String actual = HexFormat.of().formatHex(hasher.digest());
      if (!digest.encoded().equals(actual)) {
        metrics.digestMismatch();
        LOG.warn("upstream {} sent wrong bytes for {} (got sha256:{})", alias, digest, actual);
        failed(download, BlobDownload.mismatch(digest, digest.algorithm() + ":" + actual));
        return;
      }
      try {
        out.force(true);
      } catch (IOException e) {
        throw new LocalStorageException(e);
      }
      stored =
          download.complete(() -> {
            try {
              blobs.putVerifiedFile(digest, download.spool());
              return true;
            } catch (IOException e) {
              LOG.warn("cannot store blob {} ({}); serving it uncached", digest, e.getMessage());
              return false;
            }
          });
      LOG.debug("downloaded {} ({} bytes) from {}", digest, size, alias);
    } catch (LocalStorageException e) {
      metrics.storageError("spool");
      LOG.warn("cannot spool blob {}: {}", digest, e.getCause().getMessage());
      failed(
          download,
          new RegistryException(
              ErrorCode.UNAVAILABLE,
              "transship's local storage failed (" + e.getCause().getMessage() + "); retry later"));
    } catch (RegistryException e) {
      if (e.getCause() instanceof SizeViolation violation) {
        LOG.warn("upstream {}: {}; nothing stored", alias, violation.getMessage());
      }
      failed(download, e);
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("download of {} from {} failed: {}", digest, alias, e.getMessage());
      failed(
          download,
          new RegistryException(
              ErrorCode.UNAVAILABLE, "upstream " + alias + " failed while sending the blob"));
    } catch (RuntimeException e) {
      LOG.error("download of {} failed", digest, e);
      failed(download, new RegistryException(ErrorCode.UNKNOWN, "internal error"));
    } catch (Error e) {
      // readers wait for an end: give them one before the thread dies
      failed(download, new RegistryException(ErrorCode.UNKNOWN, "internal error"));
      throw e;
    } finally {
      watches.remove(download);
      active.landed(digest, download);
      if (!stored) {
        // readers hold their own channels; the name can go now (or at next start, if this fails)
        try {
          Files.deleteIfExists(download.spool());
        } catch (IOException ignored) {
          // cleaned up with the rest of the store's temporary files at the next start
        }
      }
    }
  }

  /** Re-checked after winning the single flight: a store hit means no upstream request. */
  private boolean alreadyStored(Digest digest) {
    try {
      return blobs.stat(digest).isPresent();
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Ends a failed download: its spool is removed (readers hold their own channels) and it leaves
   * the single-flight table before anyone hears of the failure, so a client that retries starts a
   * fresh download instead of joining the failed one, and finds no leftover.
   */
  private void failed(BlobDownload download, RegistryException error) {
    try {
      Files.deleteIfExists(download.spool());
    } catch (IOException ignored) {
      // removed with the rest of the store's temporary files at the next start
    }
    active.landed(download.digest(), download);
    download.failed(error);
  }

  /** Copies the upstream body into {@code out}, resuming after broken connections. */
  private long fetch(
      Route route,
      BlobDownload download,
      Watch watch,
      FileChannel out,
      MessageDigest hasher,
      long expectedSize)
      throws IOException {
    RegistryClient client = clients.apply(route.upstream().alias());
    Digest digest = download.digest();
    long size = -1;
    long limit = -1;
    for (int resume = 0; ; resume++) {
      long offset = download.written();
      String range = offset == 0 ? null : "bytes=" + offset + "-";
      UpstreamResponse response = client.blob(route.repository(), digest, false, range);
      try (response) {
        if (!response.isSuccess()) {
          throw UpstreamErrors.fromResponse(
              response, route.upstream().alias(), ErrorCode.BLOB_UNKNOWN);
        }
        if (offset == 0) {
          long announced = response.contentLength().orElse(-1);
          checkAnnounced(digest, announced, expectedSize);
          size = announced >= 0 ? announced : expectedSize;
          limit = size >= 0 ? size : maxBlobBytes;
          download.started(size);
        } else if (response.status() != 206 || !contentRangeStartsAt(response, offset)) {
          throw new IOException("upstream can't resume " + digest + " at " + offset);
        }
        watch.body = response.body();
        try {
          copy(response.body(), out, hasher, download, watch, size, limit);
        } finally {
          metrics.upstreamFetched(route.upstream().alias(), download.written() - offset);
        }
        return download.written();
      } catch (IOException e) {
        if (resume >= MAX_RESUMES || size < 0 || download.written() == 0) {
          throw e;
        }
        LOG.info(
            "upstream body of {} broke at {} of {} bytes ({}); resuming",
            digest,
            download.written(),
            size,
            e.getMessage());
      } finally {
        watch.body = null;
      }
    }
  }

  /** Refuses a download whose announced size contradicts the descriptor or passes the maximum. */
  private void checkAnnounced(Digest digest, long announced, long expectedSize) {
    if (announced >= 0 && expectedSize >= 0 && announced != expectedSize) {
      throw sizeViolation(
          digest,
          "announces "
              + announced
              + " bytes for "
              + digest
              + ", whose descriptor says "
              + expectedSize);
    }
    long known = announced >= 0 ? announced : expectedSize;
    if (known > maxBlobBytes) {
      throw sizeViolation(
          digest,
          digest
              + " is "
              + known
              + " bytes, more than cache.max-blob-bytes ("
              + maxBlobBytes
              + ")");
    }
  }

  private static RegistryException sizeViolation(Digest digest, String message) {
    return new RegistryException(
        ErrorCode.UPSTREAM_ERROR,
        "upstream sent a blob of the wrong size: " + message,
        null,
        Map.of(),
        new SizeViolation(message));
  }

  /** A new spool file; failing to create it is the local disk's problem, not the upstream's. */
  private static FileChannel openSpool(BlobDownload download) {
    try {
      return FileChannel.open(
          download.spool(),
          StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE,
          StandardOpenOption.READ);
    } catch (IOException e) {
      throw new LocalStorageException(e);
    }
  }

  /** Writing the spool failed: the local disk's problem, not the upstream's. */
  private static final class LocalStorageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    LocalStorageException(IOException cause) {
      super(cause.getMessage(), cause);
    }
  }

  /** Why a download was refused for its size (the cause of the client's error, for the log). */
  private static final class SizeViolation extends IOException {
    private static final long serialVersionUID = 1L;

    SizeViolation(String message) {
      super(message);
    }
  }

  private static boolean contentRangeStartsAt(UpstreamResponse response, long offset) {
    String value = response.header("Content-Range");
    return value != null && value.startsWith("bytes " + offset + "-");
  }

  private static void copy(
      InputStream in,
      FileChannel out,
      MessageDigest hasher,
      BlobDownload download,
      Watch watch,
      long size,
      long limit)
      throws IOException {
    byte[] buffer = new byte[128 * 1024];
    long total = download.written();
    int n;
    while ((n = in.read(buffer)) >= 0) {
      if (n == 0) {
        continue;
      }
      if (total + n > limit) {
        throw sizeViolation(
            download.digest(),
            "sent more than "
                + limit
                + " bytes for "
                + download.digest()
                + (size >= 0 ? " (its announced size)" : " (cache.max-blob-bytes)"));
      }
      ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
      try {
        while (chunk.hasRemaining()) {
          out.write(chunk, total + chunk.position());
        }
      } catch (IOException e) {
        // a local failure (a full disk, typically): not the upstream's, so neither resumed nor
        // retried against it
        throw new LocalStorageException(e);
      }
      hasher.update(buffer, 0, n);
      total += n;
      watch.lastProgressNanos = System.nanoTime();
      download.progressed(total);
    }
    if (size >= 0 && total != size) {
      throw new IOException("upstream body ended at " + total + " of " + size + " bytes");
    }
  }

  private void abortStalled() {
    long now = System.nanoTime();
    watches.forEach((download, watch) -> {
      InputStream body = watch.body;
      if (body != null && now - watch.lastProgressNanos > watch.idleLimit.toNanos()) {
        LOG.warn("upstream body of {} stalled; aborting", download.digest());
        try {
          body.close();
        } catch (IOException ignored) {
          // closing is the abort
        }
      }
    });
  }

  @Override
  public void close() {
    watchdog.shutdownNow();
  }
}
