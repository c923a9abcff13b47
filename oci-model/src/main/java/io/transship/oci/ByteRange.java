package io.transship.oci;

/**
 * An inclusive byte range {@code [first, last]} of a representation (RFC 9110 section 14.1.2),
 * already resolved against the representation's length.
 */
public record ByteRange(long first, long last) {
  public ByteRange {
    if (first < 0 || last < first) {
      throw new IllegalArgumentException("bad range " + first + "-" + last);
    }
  }

  public static ByteRange whole(long size) {
    return new ByteRange(0, size - 1);
  }

  public long length() {
    return last - first + 1;
  }

  /** The {@code Content-Range} value for this range of a representation of {@code size} bytes. */
  public String contentRange(long size) {
    return "bytes " + first + "-" + last + "/" + size;
  }

  @Override
  public String toString() {
    return first + "-" + last;
  }
}
