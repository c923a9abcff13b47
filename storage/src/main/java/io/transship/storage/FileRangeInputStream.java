package io.transship.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Objects;

/**
 * Reads at most {@code length} bytes of a {@link FileChannel} from its current position; closing
 * the stream closes the channel. Skipping moves the position instead of reading.
 */
final class FileRangeInputStream extends InputStream {
  private final FileChannel channel;
  private long remaining;

  FileRangeInputStream(FileChannel channel, long length) {
    this.channel = channel;
    this.remaining = length;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) {
      return 0;
    }
    if (remaining <= 0) {
      return -1;
    }
    int n = channel.read(ByteBuffer.wrap(b, off, (int) Math.min(len, remaining)));
    if (n < 0) {
      remaining = 0;
      return -1;
    }
    remaining -= n;
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    long k = Math.min(Math.max(n, 0), remaining);
    channel.position(channel.position() + k);
    remaining -= k;
    return k;
  }

  @Override
  public int available() {
    return (int) Math.min(remaining, Integer.MAX_VALUE);
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
