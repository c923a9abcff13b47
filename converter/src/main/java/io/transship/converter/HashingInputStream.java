package io.transship.converter;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;

/**
 * Hashes every byte that passes, skipped ones included (skipping reads), so the hash covers the
 * whole stream however it is consumed. Closing it closes the wrapped stream.
 */
final class HashingInputStream extends FilterInputStream {
  private final MessageDigest first;
  private final MessageDigest second;
  private final byte[] scratch = new byte[8192];

  /**
   * @param second a second hash, or null
   */
  HashingInputStream(InputStream in, MessageDigest first, MessageDigest second) {
    super(in);
    this.first = first;
    this.second = second;
  }

  @Override
  public int read() throws IOException {
    int b = in.read();
    if (b >= 0) {
      first.update((byte) b);
      if (second != null) {
        second.update((byte) b);
      }
    }
    return b;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    int n = in.read(b, off, len);
    if (n > 0) {
      first.update(b, off, n);
      if (second != null) {
        second.update(b, off, n);
      }
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    long skipped = 0;
    while (skipped < n) {
      int got = read(scratch, 0, (int) Math.min(scratch.length, n - skipped));
      if (got < 0) {
        break;
      }
      skipped += got;
    }
    return skipped;
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  @Override
  public synchronized void mark(int readlimit) {
    // not supported: a reset would hash bytes twice
  }

  @Override
  public synchronized void reset() throws IOException {
    throw new IOException("mark/reset not supported");
  }
}
