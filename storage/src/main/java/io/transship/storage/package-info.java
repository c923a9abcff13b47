/**
 * Where transship keeps bytes: an object-store SPI with filesystem, S3 and in-memory
 * implementations, a content-addressed blob layer on top, and the one naming scheme for keys.
 *
 * <p>Start with {@link io.transship.storage.ObjectStore} (the SPI and its guarantees: objects
 * appear only whole, at commit) and {@link io.transship.storage.StorageKeys} (every key's name and
 * the key validator implementations share). Then:
 *
 * <ul>
 *   <li>{@link io.transship.storage.FilesystemObjectStore}: files under a root, written to {@code
 *       .tmp} and renamed into place, with optional size-bounded LRU eviction; also {@link
 *       io.transship.storage.LocalFiles} for zero-copy sends;
 *   <li>{@link io.transship.storage.InMemoryObjectStore}: for tests;
 *   <li>{@link io.transship.storage.s3.S3ObjectStore}: an S3 bucket (AWS or S3-compatible), with
 *       streaming multipart uploads and presigned URLs ({@link io.transship.storage.Presigning});
 *   <li>{@link io.transship.storage.BlobStore}: blobs by digest, verified while written ({@link
 *       io.transship.storage.VerifyingBlobWriter}, {@link
 *       io.transship.storage.DigestMismatchException});
 *   <li>{@link io.transship.storage.SmallObjects}: whole-object reads and writes of manifests and
 *       tag records.
 * </ul>
 *
 * Every implementation must pass the contract suite {@code ObjectStoreContract} in this module's
 * test jar.
 */
package io.transship.storage;
