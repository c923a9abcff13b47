package io.transship.storage;

import io.transship.oci.ByteRange;
import java.io.IOException;

/** How every store resolves a requested {@link ByteRange} against an object's actual size. */
final class Ranges {
  private Ranges() {}

  /**
   * The number of bytes to return for {@code range} of an object of {@code size} bytes: the range
   * is cut at the object's end (like S3); a range that starts at or past the end fails.
   *
   * @throws IOException when {@code range.first() >= size}
   */
  static long clampedLength(String key, ByteRange range, long size) throws IOException {
    if (range.first() >= size) {
      throw new IOException(
          "range " + range + " not satisfiable for " + key + " of " + size + " bytes");
    }
    return Math.min(range.last(), size - 1) - range.first() + 1;
  }
}
