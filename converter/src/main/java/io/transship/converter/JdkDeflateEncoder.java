package io.transship.converter;

import java.util.Arrays;
import java.util.zip.Deflater;

/**
 * DEFLATE with {@link Deflater} (the JDK's zlib) in raw mode, default strategy, reset between
 * members: a member's bytes depend only on its input, the level and the zlib the JDK carries.
 */
final class JdkDeflateEncoder extends GzipMemberEncoder {

  private final Deflater deflater;

  JdkDeflateEncoder(int level) {
    super(level);
    this.deflater = new Deflater(level, true);
  }

  @Override
  byte[] deflate(byte[] data, int offset, int length, int before, int after) {
    deflater.reset();
    deflater.setInput(data, offset, length);
    deflater.finish();
    // zlib's worst case is a few bytes per 16 KiB more than the input; start smaller, grow rarely
    byte[] out = new byte[before + Math.max(64, length / 2) + after];
    int position = before;
    while (true) {
      position += deflater.deflate(out, position, out.length - after - position);
      if (deflater.finished()) {
        break;
      }
      if (out.length - after - position < 64) {
        out = Arrays.copyOf(out, out.length + Math.max(1024, out.length / 2));
      }
    }
    return position + after == out.length ? out : Arrays.copyOf(out, position + after);
  }

  @Override
  public void close() {
    deflater.end();
  }
}
