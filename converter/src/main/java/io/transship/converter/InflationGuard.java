package io.transship.converter;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The uncompressed tar of a layer, read under {@link InflationLimits}: counts the compressed bytes
 * the decompressor consumed and the uncompressed bytes it produced, and walks the tar's 512-byte
 * header blocks on the fly (POSIX.1-2008 ustar: a header, then {@code size} bytes of data padded to
 * the block size) to count entries. The first read past a limit throws {@link LayerLimitException}:
 * a bomb costs the limit, not its inflated size. The walk stops at the first all-zero header block
 * (end of archive) or at a header whose size field is unreadable; validating the tar is the
 * transcoder's job, not this one's.
 */
final class InflationGuard extends FilterInputStream {
  private static final int BLOCK = RawTarReader.BLOCK;

  private final InflationLimits limits;
  private final Counting compressed;
  private final byte[] header = new byte[BLOCK];
  private long inflated;
  private long entries;
  private int headerFill;
  private long skip;
  private boolean walkEnded;

  private InflationGuard(InputStream tar, Counting compressed, InflationLimits limits) {
    super(tar);
    this.compressed = compressed;
    this.limits = limits;
  }

  /**
   * Opens {@code source} (compressed as {@code compression} says; closing the result closes it) as
   * its uncompressed tar under {@code limits}.
   */
  static InputStream open(
      InputStream source, LayerTranscoder.SourceCompression compression, InflationLimits limits) {
    Counting counted = new Counting(source);
    InputStream tar =
        switch (compression) {
          case GZIP -> GzipInput.open(counted); // ISA-L, else ConcatenatedGzipInputStream
          case NONE -> counted;
        };
    return new InflationGuard(tar, counted, limits);
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    int n = in.read(buffer, offset, length);
    if (n > 0) {
      inflated += n;
      long allowed = limits.allowedFor(compressed.count);
      if (inflated > allowed) {
        throw new LayerLimitException(
            inflated > limits.maxInflatedBytes()
                ? "layer inflates to more than " + limits.maxInflatedBytes() + " bytes"
                : "layer inflates more than "
                    + limits.maxRatio()
                    + " times its compressed size (decompression bomb?)",
            inflated);
      }
      if (!walkEnded) {
        walk(buffer, offset, n);
      }
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    byte[] buffer = new byte[(int) Math.min(64 * 1024, Math.max(1, n))];
    long done = 0;
    while (done < n) {
      int read = read(buffer, 0, (int) Math.min(buffer.length, n - done));
      if (read < 0) {
        break;
      }
      done += read;
    }
    return done;
  }

  @Override
  public long transferTo(OutputStream out) throws IOException {
    byte[] buffer = new byte[64 * 1024];
    long total = 0;
    for (int n = read(buffer, 0, buffer.length); n >= 0; n = read(buffer, 0, buffer.length)) {
      out.write(buffer, 0, n);
      total += n;
    }
    return total;
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  private void walk(byte[] bytes, int offset, int length) throws LayerLimitException {
    int i = offset;
    int end = offset + length;
    while (i < end && !walkEnded) {
      if (skip > 0) {
        int n = (int) Math.min(skip, end - i);
        skip -= n;
        i += n;
        continue;
      }
      int n = Math.min(BLOCK - headerFill, end - i);
      System.arraycopy(bytes, i, header, headerFill, n);
      headerFill += n;
      i += n;
      if (headerFill == BLOCK) {
        headerFill = 0;
        onHeader();
      }
    }
  }

  private void onHeader() throws LayerLimitException {
    boolean zero = true;
    for (byte b : header) {
      if (b != 0) {
        zero = false;
        break;
      }
    }
    if (zero) {
      walkEnded = true;
      return;
    }
    if (++entries > limits.maxEntries()) {
      throw new LayerLimitException(
          "layer has more than " + limits.maxEntries() + " tar entries", inflated);
    }
    long size;
    try {
      size = TarFields.numeric(header, 124, 12);
    } catch (IOException e) {
      walkEnded = true;
      return;
    }
    if (size < 0) {
      walkEnded = true;
      return;
    }
    skip = size + RawTarReader.padding(size);
  }

  /** Counts the bytes read from the compressed source. */
  private static final class Counting extends FilterInputStream {
    long count;

    Counting(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      int n = in.read(buffer, offset, length);
      if (n > 0) {
        count += n;
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long skipped = in.skip(n);
      count += Math.max(0, skipped);
      return skipped;
    }
  }
}
