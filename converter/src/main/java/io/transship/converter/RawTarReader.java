package io.transship.converter;

import io.transship.converter.RawTarEntry.Kind;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Reads a tar stream 512-byte block by block, handing out every entry's header blocks verbatim
 * (extension headers included) and then its payload, so that a writer can copy the tar byte for
 * byte while regrouping it. Header fields are interpreted as Go's {@code archive/tar} does
 * (POSIX.1-2008 ustar and pax, GNU tar's {@code L}/{@code K} long names and base-256 numbers).
 *
 * <p>Entries an eStargz TOC cannot describe are refused with {@link UnsupportedLayerException}: a
 * PAX global header (the reference estargz writer refuses it too, docs/formats.md "Inputs the
 * reference refuses"), sparse files (old GNU {@code S} entries or PAX {@code GNU.sparse.*}: their
 * stored data is not the file's bytes, so no chunk could be read through the TOC) and any other
 * type but regular files, directories, links, devices and fifos.
 */
final class RawTarReader implements EntryPayload {

  static final int BLOCK = 512;

  /** Go's limit for the data of PAX and GNU long-name headers ({@code maxSpecialFileSize}). */
  private static final int MAX_EXTENSION_SIZE = 1 << 20;

  private static final byte[] USTAR_MAGIC = "ustar\0".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] GNU_MAGIC = "ustar ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] GNU_VERSION = " \0".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] STAR_TRAILER = "tar\0".getBytes(StandardCharsets.US_ASCII);

  private final InputStream in;
  private final byte[] block = new byte[BLOCK];
  private long remaining;
  private boolean ended;

  /**
   * @param in the uncompressed tar; reads go straight to it, so give it a buffered stream
   */
  RawTarReader(InputStream in) {
    this.in = in;
  }

  /**
   * The next entry, or null after the end-of-archive marker (two zero blocks, one zero block at the
   * end of the stream, or the end of the stream at a block boundary). Skips whatever is left of the
   * previous entry's payload first.
   */
  RawTarEntry next() throws IOException {
    skip(remaining);
    if (ended) {
      return null;
    }
    ByteArrayOutputStream raw = new ByteArrayOutputStream(BLOCK);
    Map<String, byte[]> pax = null;
    byte[] longName = null;
    byte[] longLink = null;
    while (true) {
      if (!readBlock()) {
        if (raw.size() > 0) {
          throw new EOFException("tar stream ends after an extension header");
        }
        ended = true;
        return null;
      }
      if (isZero(block)) {
        if (raw.size() > 0) {
          throw new IOException("malformed tar: end-of-archive after an extension header");
        }
        if (readBlock() && !isZero(block)) {
          throw new IOException("malformed tar: a zero block followed by a non-zero block");
        }
        ended = true;
        return null;
      }
      Format format = format(block);
      byte type = block[156];
      long size = TarFields.numeric(block, 124, 12);
      switch (type) {
        case 'x', 'L', 'K' -> {
          raw.write(block);
          byte[] data = readExtension(size, raw);
          if (type == 'x') {
            pax = TarFields.paxRecords(data);
          } else if (type == 'L') {
            longName = TarFields.cString(data, 0, data.length);
          } else {
            longLink = TarFields.cString(data, 0, data.length);
          }
        }
        case 'g' ->
            throw new UnsupportedLayerException(
                "PAX global header not supported: the estargz reference refuses it and its records"
                    + " would apply to every later entry");
        case 'S' ->
            throw new UnsupportedLayerException(
                "GNU sparse file not supported: an eStargz TOC cannot describe holes");
        default -> {
          raw.write(block);
          return entry(raw.toByteArray(), format, type, size, pax, longName, longLink);
        }
      }
    }
  }

  private RawTarEntry entry(
      byte[] rawHeader,
      Format format,
      byte type,
      long headerSize,
      Map<String, byte[]> pax,
      byte[] longName,
      byte[] longLink)
      throws IOException {
    byte[] b = block;
    byte[] name = TarFields.cString(b, 0, 100);
    byte[] linkName = TarFields.cString(b, 157, 100);
    long size = headerSize;
    long mode = TarFields.numeric(b, 100, 8);
    long uid = TarFields.numeric(b, 108, 8);
    long gid = TarFields.numeric(b, 116, 8);
    long mtimeSeconds = TarFields.numeric(b, 136, 12);
    long mtimeNanos = 0;
    byte[] userName = new byte[0];
    byte[] groupName = new byte[0];
    long devMajor = 0;
    long devMinor = 0;
    if (format != Format.V7) {
      userName = TarFields.cString(b, 265, 32);
      groupName = TarFields.cString(b, 297, 32);
      devMajor = TarFields.numeric(b, 329, 8);
      devMinor = TarFields.numeric(b, 337, 8);
      byte[] prefix = prefix(format);
      if (prefix.length > 0) {
        byte[] joined = Arrays.copyOf(prefix, prefix.length + 1 + name.length);
        joined[prefix.length] = '/';
        System.arraycopy(name, 0, joined, prefix.length + 1, name.length);
        name = joined;
      }
    }
    SortedMap<String, byte[]> xattrs = new TreeMap<>();
    if (pax != null) {
      for (Map.Entry<String, byte[]> record : pax.entrySet()) {
        String key = record.getKey();
        byte[] value = record.getValue();
        if (key.startsWith("GNU.sparse.")) {
          throw new UnsupportedLayerException(
              "sparse file (PAX GNU.sparse records) not supported: an eStargz TOC cannot describe"
                  + " holes");
        }
        if (key.startsWith("SCHILY.xattr.")) {
          xattrs.put(key.substring("SCHILY.xattr.".length()), value);
          continue;
        }
        if (value.length == 0) {
          continue; // an empty record keeps the header's value (Go's mergePAX)
        }
        switch (key) {
          case "path" -> name = value;
          case "linkpath" -> linkName = value;
          case "uname" -> userName = value;
          case "gname" -> groupName = value;
          case "uid" -> uid = TarFields.paxInteger(value, key);
          case "gid" -> gid = TarFields.paxInteger(value, key);
          case "size" -> size = TarFields.paxInteger(value, key);
          case "mtime" -> {
            long[] time = TarFields.paxTime(value);
            mtimeSeconds = time[0];
            mtimeNanos = time[1];
          }
          default -> {
            // atime, ctime, comments, vendor records: kept in the raw header, not in the TOC
          }
        }
      }
    }
    if (longName != null) {
      name = longName;
    }
    if (longLink != null) {
      linkName = longLink;
    }
    String nameText = TarFields.utf8(name, "entry name");
    Kind kind = kind(type, nameText);
    if (size < 0) {
      throw new IOException("malformed tar header: negative size for " + nameText);
    }
    long payload = kind == Kind.REG ? size : 0; // Go reads no data for header-only types
    remaining = payload + padding(payload);
    return new RawTarEntry(
        rawHeader,
        nameText,
        TarNames.clean(nameText),
        kind,
        size,
        TarFields.utf8(linkName, "link name of " + nameText),
        mode,
        uid,
        gid,
        TarFields.utf8(userName, "user name of " + nameText),
        TarFields.utf8(groupName, "group name of " + nameText),
        mtimeSeconds,
        (int) mtimeNanos,
        devMajor,
        devMinor,
        Collections.unmodifiableSortedMap(xattrs),
        payload,
        padding(payload));
  }

  private static Kind kind(byte type, String name) throws UnsupportedLayerException {
    return switch (type) {
      case '0' -> Kind.REG;
      case 0 -> name.endsWith("/") ? Kind.DIR : Kind.REG; // pre-POSIX; Go's TypeRegA rule
      case '1' -> Kind.HARDLINK;
      case '2' -> Kind.SYMLINK;
      case '3' -> Kind.CHAR;
      case '4' -> Kind.BLOCK;
      case '5' -> Kind.DIR;
      case '6' -> Kind.FIFO;
      default ->
          throw new UnsupportedLayerException(
              "tar entry type '"
                  + (type >= 0x20 && type < 0x7f ? String.valueOf((char) type) : "\\x" + type)
                  + "' of "
                  + name
                  + " not supported by eStargz");
    };
  }

  /** The USTAR prefix, or the star prefix, or (GNU) none unless Go's pre-1.8 fallback applies. */
  private byte[] prefix(Format format) throws IOException {
    return switch (format) {
      case USTAR -> TarFields.cString(block, 345, 155);
      case STAR -> TarFields.cString(block, 345, 131);
      case GNU -> {
        // GNU keeps atime/ctime there. Go falls back to reading a prefix when those do not parse
        // as numbers (tar files of Go < 1.8 wrote a prefix into a GNU header).
        try {
          if (block[345] != 0) {
            TarFields.numeric(block, 345, 12);
          }
          if (block[357] != 0) {
            TarFields.numeric(block, 357, 12);
          }
          yield new byte[0];
        } catch (IOException notNumbers) {
          byte[] prefix = TarFields.cString(block, 345, 155);
          for (byte c : prefix) {
            if (c < 0) {
              yield new byte[0];
            }
          }
          yield prefix;
        }
      }
      case V7 -> new byte[0];
    };
  }

  private byte[] readExtension(long size, ByteArrayOutputStream raw) throws IOException {
    if (size < 0 || size > MAX_EXTENSION_SIZE) {
      throw new IOException("tar extension header of " + size + " bytes (limit 1 MiB)");
    }
    int length = (int) size;
    byte[] padded = new byte[length + padding(length)];
    readFullyFromStream(padded, 0, padded.length);
    raw.write(padded, 0, padded.length);
    return Arrays.copyOf(padded, length);
  }

  /** Bytes of the current entry's payload and padding not read yet. */
  long remaining() {
    return remaining;
  }

  @Override
  public void readFully(byte[] buffer, int offset, int length) throws IOException {
    if (length > remaining) {
      throw new IllegalStateException("read past the entry's payload");
    }
    readFullyFromStream(buffer, offset, length);
    remaining -= length;
  }

  @Override
  public void skip(long length) throws IOException {
    if (length > remaining) {
      throw new IllegalStateException("skip past the entry's payload");
    }
    long left = length;
    while (left > 0) {
      long skipped = in.skip(left);
      if (skipped <= 0) {
        if (in.read() < 0) {
          throw new EOFException("tar stream ends inside an entry");
        }
        skipped = 1;
      }
      left -= skipped;
    }
    remaining -= length;
  }

  static int padding(long size) {
    return (int) ((BLOCK - (size % BLOCK)) % BLOCK);
  }

  private boolean readBlock() throws IOException {
    int n = in.readNBytes(block, 0, BLOCK);
    if (n == 0) {
      return false;
    }
    if (n < BLOCK) {
      throw new EOFException("tar stream ends inside a header block");
    }
    return true;
  }

  private void readFullyFromStream(byte[] buffer, int offset, int length) throws IOException {
    int n = in.readNBytes(buffer, offset, length);
    if (n < length) {
      throw new EOFException("tar stream ends inside an entry");
    }
  }

  private static boolean isZero(byte[] bytes) {
    for (byte b : bytes) {
      if (b != 0) {
        return false;
      }
    }
    return true;
  }

  private enum Format {
    V7,
    USTAR,
    STAR,
    GNU
  }

  /** The header's format after checking its checksum (Go's {@code block.getFormat}). */
  private static Format format(byte[] b) throws IOException {
    long stored = TarFields.octal(b, 148, 8);
    long unsigned = 0;
    long signed = 0;
    for (int i = 0; i < BLOCK; i++) {
      byte c = (i >= 148 && i < 156) ? (byte) ' ' : b[i];
      unsigned += c & 0xff;
      signed += c;
    }
    if (stored != unsigned && stored != signed) {
      throw new IOException("malformed tar: header checksum mismatch");
    }
    if (Arrays.equals(b, 257, 263, USTAR_MAGIC, 0, 6)) {
      return Arrays.equals(b, 508, 512, STAR_TRAILER, 0, 4) ? Format.STAR : Format.USTAR;
    }
    if (Arrays.equals(b, 257, 263, GNU_MAGIC, 0, 6)
        && Arrays.equals(b, 263, 265, GNU_VERSION, 0, 2)) {
      return Format.GNU;
    }
    return Format.V7;
  }
}
