package io.transship.storage.s3;

import java.io.FilterInputStream;
import java.io.IOException;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;

/**
 * The body of a {@code GetObject}. Closing it before the end aborts the HTTP connection instead of
 * reading the rest of the object to reuse the connection (which could mean gigabytes for a client
 * that went away). SDK failures while reading become {@link IOException}s.
 */
final class S3InputStream extends FilterInputStream {
  private final ResponseInputStream<?> response;
  private final String objectKey;
  private long remaining;
  private boolean ended;
  private boolean closed;

  /**
   * @param length the body's length from {@code Content-Length}, or negative when unknown (then
   *     only end of stream counts as the end)
   */
  S3InputStream(ResponseInputStream<?> response, long length, String objectKey) {
    super(response);
    this.response = response;
    this.remaining = length < 0 ? Long.MAX_VALUE : length;
    this.objectKey = objectKey;
    this.ended = length == 0;
  }

  private void consumed(long n) {
    if (n < 0) {
      ended = true;
    } else {
      remaining -= n;
      ended |= remaining <= 0;
    }
  }

  @Override
  public int read() throws IOException {
    try {
      int b = super.read();
      consumed(b < 0 ? -1 : 1);
      return b;
    } catch (SdkException e) {
      throw failure(e);
    }
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    try {
      int n = super.read(b, off, len);
      consumed(n);
      return n;
    } catch (SdkException e) {
      throw failure(e);
    }
  }

  @Override
  public long skip(long n) throws IOException {
    try {
      long skipped = super.skip(n);
      consumed(Math.max(skipped, 0));
      return skipped;
    } catch (SdkException e) {
      throw failure(e);
    }
  }

  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (!ended) {
        response.abort();
      }
      response.close();
    } catch (SdkException e) {
      throw failure(e);
    }
  }

  private IOException failure(SdkException e) {
    return new IOException(
        "reading S3 object " + objectKey + " failed: " + S3ObjectStore.describe(e), e);
  }
}
