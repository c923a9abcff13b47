package io.transship.converter;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Decompression bombs, generated cheaply: gzip allows concatenated members (RFC 1952 section 2.2),
 * so one member holding 1 MiB of zeros (about 1 KiB compressed) repeated makes a valid gzip layer
 * of any inflated size at a thousandth of its size, without ever compressing the whole.
 */
public final class Bombs {
  private static final int MIB = 1 << 20;

  private Bombs() {}

  /**
   * A gzip tar layer holding one regular file of {@code mebibytes} MiB of zeros, as a stream (8 GiB
   * inflated is about 8 MiB compressed). Complete and valid: header, data, end-of-archive.
   */
  public static InputStream zeroFileLayer(long mebibytes) {
    byte[] header = tarHeader("bomb", mebibytes * MIB);
    byte[] zeros = gzip(new byte[MIB]);
    byte[] trailer = gzip(new byte[1024]);
    Iterator<InputStream> parts =
        new Iterator<>() {
          long left = mebibytes;
          boolean headerDone;
          boolean trailerDone;

          @Override
          public boolean hasNext() {
            return !trailerDone;
          }

          @Override
          public InputStream next() {
            if (!headerDone) {
              headerDone = true;
              return new java.io.ByteArrayInputStream(gzip(header));
            }
            if (left > 0) {
              left--;
              return new java.io.ByteArrayInputStream(zeros);
            }
            trailerDone = true;
            return new java.io.ByteArrayInputStream(trailer);
          }
        };
    return new SequenceInputStream(
        new java.util.Enumeration<>() {
          @Override
          public boolean hasMoreElements() {
            return parts.hasNext();
          }

          @Override
          public InputStream nextElement() {
            return parts.next();
          }
        });
  }

  /** Compressed size of {@link #zeroFileLayer}. */
  public static long zeroFileLayerSize(long mebibytes) {
    return gzip(tarHeader("bomb", mebibytes * MIB)).length
        + mebibytes * gzip(new byte[MIB]).length
        + gzip(new byte[1024]).length;
  }

  /** A gzip tar of {@code count} empty files with distinct names. */
  public static byte[] manyEntriesLayer(int count) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(bytes);
        TarArchiveOutputStream tar = new TarArchiveOutputStream(gzip)) {
      for (int i = 0; i < count; i++) {
        TarArchiveEntry entry = new TarArchiveEntry("f/" + i);
        entry.setSize(0);
        tar.putArchiveEntry(entry);
        tar.closeArchiveEntry();
      }
      tar.finish();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** A ustar header block of a regular file; the size in base-256 (GNU, Go) when octal won't do. */
  static byte[] tarHeader(String name, long size) {
    byte[] block = new byte[512];
    byte[] n = name.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(n, 0, block, 0, n.length);
    put(block, 100, "0000644\0");
    put(block, 108, "0000000\0");
    put(block, 116, "0000000\0");
    if (size < 077777777777L) {
      put(block, 124, String.format("%011o\0", size));
    } else {
      block[124] = (byte) 0x80;
      for (int i = 0; i < 8; i++) {
        block[135 - i] = (byte) (size >>> (8 * i));
      }
    }
    put(block, 136, "00000000000\0");
    block[156] = '0';
    put(block, 257, "ustar\0");
    put(block, 263, "00");
    java.util.Arrays.fill(block, 148, 156, (byte) ' ');
    long sum = 0;
    for (byte b : block) {
      sum += b & 0xff;
    }
    put(block, 148, String.format("%06o\0 ", sum));
    return block;
  }

  private static void put(byte[] block, int offset, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(bytes, 0, block, offset, bytes.length);
  }

  private static byte[] gzip(byte[] data) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(bytes)) {
      gzip.write(data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }
}
