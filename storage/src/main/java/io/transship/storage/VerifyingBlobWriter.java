package io.transship.storage;

import io.transship.oci.Digest;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Writes a blob while hashing it; {@link #commit()} stores it only if the bytes hash to the
 * expected digest. Obtained from {@link BlobStore#newWriter}. Not thread-safe.
 */
public final class VerifyingBlobWriter implements ObjectWriter {
  private final Digest expected;
  private final ObjectWriter delegate;
  private final MessageDigest hasher;

  VerifyingBlobWriter(Digest expected, ObjectWriter delegate) {
    this.expected = expected;
    this.delegate = delegate;
    this.hasher = expected.newHasher();
  }

  /** The digest the content must have. */
  public Digest expected() {
    return expected;
  }

  @Override
  public void write(byte[] buffer, int offset, int length) throws IOException {
    delegate.write(buffer, offset, length);
    hasher.update(buffer, offset, length);
  }

  @Override
  public long written() {
    return delegate.written();
  }

  /**
   * Stores the blob if its digest matches. Committing a blob that already exists succeeds (the
   * identical bytes replace themselves, which also marks the blob as recently used).
   *
   * @throws DigestMismatchException after aborting, when the digest differs; nothing is stored
   */
  @Override
  public void commit() throws IOException {
    byte[] hash = hasher.digest();
    if (!expected.matches(hash)) {
      delegate.abort();
      throw new DigestMismatchException(
          expected, new Digest(expected.algorithm(), HexFormat.of().formatHex(hash)));
    }
    delegate.commit();
  }

  @Override
  public void abort() {
    delegate.abort();
  }
}
