package io.transship.storage;

import io.transship.oci.ByteRange;
import io.transship.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Content-addressed blobs over any {@link ObjectStore}, each under {@link StorageKeys#blob}. Every
 * blob stored through {@link #newWriter} has been verified against its digest; {@link
 * #putVerifiedFile} trusts its caller to have done so. Storing a blob that already exists is
 * success. Thread-safe when the store is.
 */
public final class BlobStore {
  private final ObjectStore store;

  public BlobStore(ObjectStore store) {
    this.store = store;
  }

  /** The underlying store. */
  public ObjectStore objectStore() {
    return store;
  }

  /** Size and modification time of the blob, or empty when absent. */
  public Optional<ObjectInfo> stat(Digest digest) throws IOException {
    return store.stat(StorageKeys.blob(digest));
  }

  /**
   * Opens the blob, the whole of it when {@code range} is null.
   *
   * @throws NoSuchObjectException when absent
   */
  public InputStream open(Digest digest, ByteRange range) throws IOException {
    return store.open(StorageKeys.blob(digest), range);
  }

  /** The blob's file, when the store keeps plain local files and has the blob. */
  public Optional<Path> localFile(Digest digest) {
    return store instanceof LocalFiles files
        ? files.localFile(StorageKeys.blob(digest))
        : Optional.empty();
  }

  /** Starts writing a blob whose content must hash to {@code expected}. */
  public VerifyingBlobWriter newWriter(Digest expected) throws IOException {
    return new VerifyingBlobWriter(expected, store.newWriter(StorageKeys.blob(expected)));
  }

  /**
   * Stores a local {@code file} the caller has already verified to hash to {@code digest},
   * consuming the file (see {@link ObjectStore#putFile}).
   */
  public void putVerifiedFile(Digest digest, Path file) throws IOException {
    store.putFile(StorageKeys.blob(digest), file);
  }

  /** A presigned URL of the blob, when the store can make one. */
  public Optional<java.net.URI> presignGet(Digest digest, java.time.Duration expiry) {
    return store instanceof Presigning presigning
        ? presigning.presignGet(StorageKeys.blob(digest), expiry)
        : Optional.empty();
  }

  /** Deletes the blob; returns whether it existed. */
  public boolean delete(Digest digest) throws IOException {
    return store.delete(StorageKeys.blob(digest));
  }
}
