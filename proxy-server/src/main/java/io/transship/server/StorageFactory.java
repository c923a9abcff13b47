package io.transship.server;

import io.transship.server.config.TransshipConfig;
import io.transship.server.service.ProxyMetrics;
import io.transship.server.service.StorageSetup;
import io.transship.storage.BoundedObjectStore;
import io.transship.storage.CachedObjectStore;
import io.transship.storage.FilesystemObjectStore;
import io.transship.storage.GuardedObjectStore;
import io.transship.storage.s3.S3Config;
import io.transship.storage.s3.S3ObjectStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds the storage a config asks for: the filesystem, or S3 behind a local disk cache. */
final class StorageFactory {
  private static final Logger LOG = LoggerFactory.getLogger(StorageFactory.class);
  private static final Duration PROBE_INTERVAL = Duration.ofSeconds(5);

  private StorageFactory() {}

  static StorageSetup create(TransshipConfig.StorageConfig config, ProxyMetrics metrics)
      throws IOException {
    Path root = config.root().toAbsolutePath().normalize();
    BoundedObjectStore local =
        new BoundedObjectStore(new FilesystemObjectStore(root), config.maxBytes());
    metrics.cache(local::contentBytes, local::contentObjects, local.maxBytes());
    local.addEvictionListener((key, bytes) -> metrics.evicted(bytes));
    Path spool = root.resolve(FilesystemObjectStore.TMP_DIR);
    TransshipConfig.S3Settings s3 = config.s3();
    if (s3 == null) {
      return StorageSetup.local(local, spool);
    }
    S3ObjectStore remote =
        new S3ObjectStore(
            new S3Config(
                s3.bucket(),
                s3.prefix(),
                s3.region(),
                s3.endpoint(),
                s3.pathStyle(),
                s3.accessKeyId(),
                s3.secretAccessKey(),
                s3.partSize(),
                s3.presignExpiry()));
    GuardedObjectStore guarded = new GuardedObjectStore(remote, PROBE_INTERVAL);
    try {
      remote.checkBucket();
    } catch (IOException e) {
      // start anyway, degraded: the guard's probe brings storage back when S3 answers
      LOG.warn("S3 {} not usable at start: {}", s3, e.getMessage());
      try {
        guarded.stat("health/probe");
      } catch (IOException ignored) {
        // recorded by the guard
      }
    }
    CachedObjectStore cached =
        new CachedObjectStore(guarded, local, CachedObjectStore::immutableKey);
    return new StorageSetup(
        cached, spool, guarded::problem, true, s3.presign() ? s3.presignExpiry() : null, local);
  }
}
