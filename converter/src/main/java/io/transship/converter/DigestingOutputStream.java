package io.transship.converter;

import io.transship.oci.Digest;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;

/**
 * Passes bytes through to a caller's stream while counting them and hashing them with sha256, so a
 * converted blob's descriptor (digest and size, OCI image spec v1.1 "Descriptors") comes from the
 * very bytes written. {@link #close()} flushes but never closes the caller's stream.
 */
final class DigestingOutputStream extends FilterOutputStream {
  private final MessageDigest sha256 = Digest.newSha256();
  private long count;

  DigestingOutputStream(OutputStream out) {
    super(out);
  }

  @Override
  public void write(int b) throws IOException {
    out.write(b);
    sha256.update((byte) b);
    count++;
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    out.write(b, off, len);
    sha256.update(b, off, len);
    count += len;
  }

  @Override
  public void close() throws IOException {
    out.flush();
  }

  /** Bytes written so far. */
  long count() {
    return count;
  }

  /** The sha256 of everything written; call once, after the last write. */
  Digest digest() {
    return Digest.ofSha256(sha256.digest());
  }
}
