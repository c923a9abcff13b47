package io.transship.server.service;

import io.transship.storage.BoundedObjectStore;
import io.transship.storage.ObjectStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * The storage the services run on.
 *
 * @param store where blobs, manifests, tag records and the conversion index live
 * @param spoolDir a local directory on the same filesystem as the local store, for downloads and
 *     conversions in progress
 * @param problem empty while the store is usable, else why not (the services then degrade to
 *     pass-through: no caching, no conversion)
 * @param shared whether other replicas use the same store (conversions then take a lease)
 * @param presignExpiry when set, blob GETs are answered with a 307 to a presigned URL valid this
 *     long
 * @param localDisk the size-bounded local disk store (the store itself, or the cache in front of a
 *     shared one): its evictions invalidate in-memory caches, its size is a metric
 */
public record StorageSetup(
    ObjectStore store,
    Path spoolDir,
    Supplier<String> problem,
    boolean shared,
    Duration presignExpiry,
    BoundedObjectStore localDisk) {

  /** A local, unshared store on {@code localDisk}. */
  public static StorageSetup local(BoundedObjectStore localDisk, Path spoolDir) {
    return new StorageSetup(localDisk, spoolDir, () -> "", false, null, localDisk);
  }

  boolean available() {
    return problem.get().isEmpty();
  }
}
