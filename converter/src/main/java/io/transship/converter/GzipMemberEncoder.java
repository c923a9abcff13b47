package io.transship.converter;

import java.util.zip.CRC32;

/**
 * Compresses a buffer into one complete gzip member (RFC 1952 section 2.3): a fixed 10-byte header
 * — no name, no comment, MTIME 0, OS 255 "unknown", XFL as Go's {@code compress/gzip} sets it — the
 * raw DEFLATE data of the buffer, its CRC-32 and its length mod 2^32. Nothing in the member depends
 * on the time, the machine or the thread, so equal input gives equal members. Not thread-safe: one
 * encoder per worker.
 */
abstract class GzipMemberEncoder implements AutoCloseable {

  static final int HEADER_SIZE = 10;
  static final int TRAILER_SIZE = 8;

  private final int level;
  private final CRC32 crc = new CRC32();

  GzipMemberEncoder(int level) {
    this.level = level;
  }

  /** One gzip member holding {@code data[offset, offset + length)}. */
  final byte[] encode(byte[] data, int offset, int length) {
    byte[] member = deflate(data, offset, length, HEADER_SIZE, TRAILER_SIZE);
    writeHeader(member, level);
    crc.reset();
    crc.update(data, offset, length);
    int end = member.length - TRAILER_SIZE;
    putIntLe(member, end, (int) crc.getValue());
    putIntLe(member, end + 4, length);
    return member;
  }

  /**
   * Raw DEFLATE (RFC 1951) of the data, returned in an array of exactly {@code before + compressed
   * + after} bytes with the compressed bytes at {@code before}.
   */
  abstract byte[] deflate(byte[] data, int offset, int length, int before, int after);

  @Override
  public abstract void close();

  static void writeHeader(byte[] member, int level) {
    member[0] = 0x1f;
    member[1] = (byte) 0x8b;
    member[2] = 8; // CM deflate
    member[3] = 0; // FLG: nothing optional
    member[4] = 0; // MTIME 0: no time stamp
    member[5] = 0;
    member[6] = 0;
    member[7] = 0;
    member[8] = (byte) (level >= 9 ? 2 : level == 1 ? 4 : 0); // XFL: slowest / fastest
    member[9] = (byte) 0xff; // OS unknown
  }

  static void putIntLe(byte[] b, int at, int value) {
    b[at] = (byte) value;
    b[at + 1] = (byte) (value >>> 8);
    b[at + 2] = (byte) (value >>> 16);
    b[at + 3] = (byte) (value >>> 24);
  }
}
