package io.transship.converter;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import java.util.zip.ZipException;

/**
 * Decompresses a gzip file (RFC 1952) of one or more members as one stream, strictly and in bounded
 * memory.
 *
 * <p>RFC 1952 section 2.2: "A gzip file consists of a series of "members" (compressed data sets)";
 * the decompressed data is their concatenation, as Go's {@code compress/gzip} (what Docker and
 * containerd use) reads a layer. Unlike {@link java.util.zip.GZIPInputStream}, which stops silently
 * at anything after a member that is not a valid member header (and so can hand over a truncated
 * tar), this reader fails, as Go's does: every member's header, CRC32 and ISIZE are checked, and
 * the only accepted end is the end of the input right after a member. Header fields (FEXTRA, FNAME,
 * FCOMMENT) are skipped, never stored, so memory stays at one fixed input buffer whatever the
 * input. Closing this stream ends the {@link Inflater} and closes the underlying stream.
 */
final class ConcatenatedGzipInputStream extends InputStream {
  // RFC 1952 section 2.3.1, FLG bits
  private static final int FHCRC = 0x02;
  private static final int FEXTRA = 0x04;
  private static final int FNAME = 0x08;
  private static final int FCOMMENT = 0x10;
  private static final int FLG_RESERVED = 0xE0;
  private static final int CM_DEFLATE = 8;

  private final InputStream in;
  private final byte[] buffer;
  private final Inflater inflater = new Inflater(true); // raw deflate: gzip framing is ours
  private final CRC32 dataCrc = new CRC32();
  private final CRC32 headerCrc = new CRC32();
  private final byte[] single = new byte[1];
  private int position; // buffer[position, limit) holds compressed bytes not yet used
  private int limit;
  private long members;
  private boolean inMember;
  private boolean ended;
  private boolean closed;

  ConcatenatedGzipInputStream(InputStream in, int bufferSize) {
    this.in = Objects.requireNonNull(in, "in");
    if (bufferSize < 1) {
      throw new IllegalArgumentException("buffer size must be positive: " + bufferSize);
    }
    this.buffer = new byte[bufferSize];
  }

  @Override
  public int read() throws IOException {
    return read(single, 0, 1) == -1 ? -1 : single[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (closed) {
      throw new IOException("stream closed");
    }
    if (len == 0) {
      return 0;
    }
    while (!ended) {
      if (!inMember) {
        if (members > 0 && !hasInput()) {
          ended = true; // the input ends right after a member: the only good ending
          break;
        }
        readHeader();
        continue;
      }
      int n = inflate(b, off, len);
      if (n > 0) {
        return n;
      }
    }
    return -1;
  }

  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      inflater.end();
      in.close();
    }
  }

  /** Member header, RFC 1952 section 2.3 (ID1 ID2 CM FLG MTIME XFL OS, then optional fields). */
  private void readHeader() throws IOException {
    headerCrc.reset();
    if (headerByte() != 0x1f || headerByte() != 0x8b) {
      throw new ZipException(
          members == 0 ? "not in gzip format" : "unexpected data after gzip member " + members);
    }
    int method = headerByte();
    if (method != CM_DEFLATE) {
      throw new ZipException("unsupported gzip compression method " + method);
    }
    int flags = headerByte();
    if ((flags & FLG_RESERVED) != 0) {
      throw new ZipException("reserved gzip header flags are set");
    }
    skipHeaderBytes(6); // MTIME, XFL, OS
    if ((flags & FEXTRA) != 0) {
      skipHeaderBytes(headerByte() | headerByte() << 8);
    }
    if ((flags & FNAME) != 0) {
      skipZeroTerminated();
    }
    if ((flags & FCOMMENT) != 0) {
      skipZeroTerminated();
    }
    if ((flags & FHCRC) != 0) {
      int expected = (int) (headerCrc.getValue() & 0xffff);
      if ((readByte() | readByte() << 8) != expected) {
        throw new ZipException("gzip header CRC16 mismatch");
      }
    }
    inflater.reset();
    dataCrc.reset();
    inMember = true;
    members++;
  }

  /** Inflates into {@code b}; returns 0 only when the member just ended (trailer checked). */
  private int inflate(byte[] b, int off, int len) throws IOException {
    while (true) {
      if (inflater.needsInput()) {
        if (position == limit && !fill()) {
          throw new EOFException("gzip data ends inside member " + members);
        }
        inflater.setInput(buffer, position, limit - position);
        position = limit; // handed to the inflater; what it does not use comes back below
      }
      long consumedBefore = inflater.getBytesRead();
      int n;
      try {
        n = inflater.inflate(b, off, len);
      } catch (DataFormatException e) {
        throw new ZipException("corrupt deflate data in gzip member " + members + ": " + e);
      }
      dataCrc.update(b, off, n);
      if (inflater.finished()) {
        position = limit - inflater.getRemaining();
        readTrailer();
        inMember = false;
        return n;
      }
      if (n > 0) {
        return n;
      }
      if (inflater.needsDictionary()) {
        throw new ZipException("gzip member " + members + " needs a preset dictionary");
      }
      if (!inflater.needsInput() && inflater.getBytesRead() == consumedBefore) {
        throw new ZipException("deflate made no progress in gzip member " + members);
      }
    }
  }

  /** Member trailer, RFC 1952 section 2.3.1: CRC32, then ISIZE (size modulo 2^32). */
  private void readTrailer() throws IOException {
    if (readUInt32() != dataCrc.getValue()) {
      throw new ZipException("gzip member " + members + " fails its CRC32 check");
    }
    if (readUInt32() != (inflater.getBytesWritten() & 0xffffffffL)) {
      throw new ZipException("gzip member " + members + " has the wrong ISIZE");
    }
  }

  private long readUInt32() throws IOException {
    long value = 0;
    for (int shift = 0; shift < 32; shift += 8) {
      value |= (long) readByte() << shift;
    }
    return value;
  }

  private void skipZeroTerminated() throws IOException {
    while (headerByte() != 0) {
      // FNAME and FCOMMENT are not needed: skip them however long they are
    }
  }

  private void skipHeaderBytes(int count) throws IOException {
    for (int i = 0; i < count; i++) {
      headerByte();
    }
  }

  private int headerByte() throws IOException {
    int b = readByte();
    headerCrc.update(b);
    return b;
  }

  private int readByte() throws IOException {
    if (position == limit && !fill()) {
      throw new EOFException("gzip data ends inside the header or trailer of a member");
    }
    return buffer[position++] & 0xff;
  }

  private boolean hasInput() throws IOException {
    return position < limit || fill();
  }

  /** Refills the (fully used) buffer; false at the end of the input. */
  private boolean fill() throws IOException {
    int n;
    do {
      n = in.read(buffer, 0, buffer.length);
    } while (n == 0);
    if (n < 0) {
      return false;
    }
    position = 0;
    limit = n;
    return true;
  }
}
