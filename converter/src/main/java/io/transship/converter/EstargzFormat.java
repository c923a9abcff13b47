package io.transship.converter;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * The fixed parts of an eStargz blob (stargz-snapshotter docs/estargz.md; docs/formats.md
 * "eStargz"): reserved entry names, the landmark content, the tar headers this writer makes itself
 * and the 51-byte footer.
 */
final class EstargzFormat {

  /** The TOC's tar entry, in the last gzip member before the footer. */
  static final String TOC_NAME = "stargz.index.json";

  /** Ends the prioritized files: the snapshotter prefetches the blob up to this entry's offset. */
  static final String PREFETCH_LANDMARK = ".prefetch.landmark";

  /** First entry of a layer without prioritized files: nothing to prefetch. */
  static final String NO_PREFETCH_LANDMARK = ".no.prefetch.landmark";

  /** A landmark is a one-byte regular file holding this byte. */
  static final byte LANDMARK_CONTENT = 0x0f;

  /** Footer length; the legacy stargz footer (47 bytes) is never written. */
  static final int FOOTER_SIZE = 51;

  private EstargzFormat() {}

  /** Whether an input entry with this cleaned name is dropped (the writer makes its own). */
  static boolean isReserved(String cleanName) {
    return cleanName.equals(TOC_NAME)
        || cleanName.equals(PREFETCH_LANDMARK)
        || cleanName.equals(NO_PREFETCH_LANDMARK);
  }

  /**
   * A USTAR header block for a regular file with only name, type and size set (mode, owner and
   * mtime zero), as the reference writes its landmarks and TOC entry.
   */
  static byte[] regularFileHeader(String name, long size) {
    byte[] block = new byte[RawTarReader.BLOCK];
    byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
    if (nameBytes.length > 100) {
      throw new IllegalArgumentException("name too long for a plain USTAR header: " + name);
    }
    System.arraycopy(nameBytes, 0, block, 0, nameBytes.length);
    octal(block, 100, 8, 0); // mode
    octal(block, 108, 8, 0); // uid
    octal(block, 116, 8, 0); // gid
    octal(block, 124, 12, size);
    octal(block, 136, 12, 0); // mtime
    block[156] = '0';
    ascii(block, 257, "ustar\0");
    ascii(block, 263, "00");
    octal(block, 329, 8, 0); // devmajor
    octal(block, 337, 8, 0); // devminor
    ascii(block, 148, "        ");
    long sum = 0;
    for (byte b : block) {
      sum += b & 0xff;
    }
    octal(block, 148, 7, sum); // six digits and a NUL, then the space already there
    return block;
  }

  /**
   * The 51-byte footer: an empty gzip member whose extra field holds the TOC offset as 16 lower
   * case hex digits followed by {@code STARGZ} (docs/formats.md "Footer"; containers/storage reads
   * bytes 16..32 directly). MTIME 0, XFL 0, OS 255 as Go writes it.
   */
  static byte[] footer(long tocOffset) {
    byte[] f = new byte[FOOTER_SIZE];
    f[0] = 0x1f;
    f[1] = (byte) 0x8b;
    f[2] = 8;
    f[3] = 4; // FLG.FEXTRA
    // MTIME 4..8 and XFL 8 stay zero
    f[9] = (byte) 0xff;
    f[10] = 26; // XLEN, little endian
    f[12] = 'S';
    f[13] = 'G';
    f[14] = 22; // subfield length, little endian
    String hex = HexFormat.of().toHexDigits(tocOffset); // 16 lower-case digits
    ascii(f, 16, hex);
    ascii(f, 32, "STARGZ");
    f[38] = 1; // final stored block of length 0 ...
    f[41] = (byte) 0xff; // ... and its one's complement
    f[42] = (byte) 0xff;
    // CRC32 and ISIZE of no data: 8 zero bytes
    return f;
  }

  private static void octal(byte[] block, int offset, int length, long value) {
    String digits = Long.toOctalString(value);
    int width = length - 1;
    if (digits.length() > width) {
      throw new IllegalArgumentException("value too large for a " + length + "-byte field");
    }
    int at = offset;
    for (int i = digits.length(); i < width; i++) {
      block[at++] = '0';
    }
    ascii(block, at, digits);
    block[offset + width] = 0;
  }

  private static void ascii(byte[] block, int offset, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(bytes, 0, block, offset, bytes.length);
  }
}
