package io.transship.converter;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Parsing of tar header fields and PAX records with the rules of Go's {@code archive/tar} ({@code
 * strconv.go}, {@code reader.go}): what containerd and the estargz library will read from the same
 * bytes. Anything Go would reject is a {@link IOException} here too.
 */
final class TarFields {

  private TarFields() {}

  /** The bytes of a NUL-terminated field: up to the first NUL, or all of them. */
  static byte[] cString(byte[] bytes, int offset, int length) {
    int end = offset;
    int limit = offset + length;
    while (end < limit && bytes[end] != 0) {
      end++;
    }
    byte[] result = new byte[end - offset];
    System.arraycopy(bytes, offset, result, 0, result.length);
    return result;
  }

  /**
   * Decodes a name, link target or user name. The TOC is JSON (UTF-8); a name that is not valid
   * UTF-8 cannot be written into it faithfully (Go's encoder would silently replace the bad bytes,
   * and the TOC would name a file that is not in the tar).
   */
  static String utf8(byte[] bytes, String what) throws UnsupportedLayerException {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new UnsupportedLayerException(
          what + " is not valid UTF-8; an eStargz TOC cannot hold it");
    }
  }

  /**
   * A numeric header field: base-256 when the first byte's high bit is set (GNU and star extension,
   * negative when the next bit is set too), octal otherwise, with leading and trailing spaces and
   * NULs ignored and an empty field meaning 0 (Go's {@code parseNumeric}).
   */
  static long numeric(byte[] block, int offset, int length) throws IOException {
    if (length > 0 && (block[offset] & 0x80) != 0) {
      int inverse = (block[offset] & 0x40) != 0 ? 0xff : 0;
      long value = 0;
      for (int i = 0; i < length; i++) {
        int c = (block[offset + i] ^ inverse) & 0xff;
        if (i == 0) {
          c &= 0x7f;
        }
        if ((value >>> 56) != 0) {
          throw new IOException("malformed tar header: base-256 number overflows");
        }
        value = (value << 8) | c;
      }
      if (value < 0) {
        throw new IOException("malformed tar header: base-256 number overflows");
      }
      return inverse == 0xff ? ~value : value;
    }
    return octal(block, offset, length);
  }

  /** An octal field (Go's {@code parseOctal}). */
  static long octal(byte[] block, int offset, int length) throws IOException {
    int start = offset;
    int end = offset + length;
    while (start < end && (block[start] == ' ' || block[start] == 0)) {
      start++;
    }
    while (end > start && (block[end - 1] == ' ' || block[end - 1] == 0)) {
      end--;
    }
    if (start == end) {
      return 0;
    }
    for (int i = start; i < end; i++) {
      if (block[i] == 0) {
        end = i;
        break;
      }
    }
    long value = 0;
    for (int i = start; i < end; i++) {
      int digit = block[i] - '0';
      if (digit < 0 || digit > 7 || (value >>> 61) != 0) {
        throw new IOException("malformed tar header: bad octal number");
      }
      value = (value << 3) | digit;
    }
    return value;
  }

  /**
   * The records of a PAX extended header ({@code "%d %s=%s\n"}, POSIX.1-2008 pax "extended
   * header"), later records replacing earlier ones with the same key. Values stay bytes: xattr
   * values are binary.
   */
  static Map<String, byte[]> paxRecords(byte[] data) throws IOException {
    Map<String, byte[]> records = new LinkedHashMap<>();
    int position = 0;
    while (position < data.length) {
      int space = position;
      while (space < data.length && data[space] != ' ') {
        space++;
      }
      if (space == data.length || space == position || space - position > 18) {
        throw new IOException("malformed PAX record");
      }
      long length = 0;
      for (int i = position; i < space; i++) {
        int digit = data[i] - '0';
        if (digit < 0 || digit > 9) {
          throw new IOException("malformed PAX record length");
        }
        length = length * 10 + digit;
      }
      long end = position + length;
      if (length < 5 || end > data.length || end <= space + 1 || data[(int) end - 1] != '\n') {
        throw new IOException("malformed PAX record");
      }
      int equals = -1;
      for (int i = space + 1; i < end - 1; i++) {
        if (data[i] == '=') {
          equals = i;
          break;
        }
      }
      if (equals < 0) {
        throw new IOException("malformed PAX record: no '='");
      }
      if (equals == space + 1) {
        throw new IOException("malformed PAX record: empty key");
      }
      byte[] keyBytes = Arrays.copyOfRange(data, space + 1, equals);
      byte[] value = Arrays.copyOfRange(data, equals + 1, (int) end - 1);
      String key = utf8(keyBytes, "PAX record key");
      if (key.indexOf('\0') >= 0) {
        throw new IOException("malformed PAX record: NUL in key");
      }
      boolean textual =
          key.equals("path")
              || key.equals("linkpath")
              || key.equals("uname")
              || key.equals("gname");
      if (textual && indexOf(value, (byte) 0) >= 0) {
        throw new IOException("malformed PAX record: NUL in " + key);
      }
      records.put(key, value);
      position = (int) end;
    }
    return records;
  }

  /** A decimal PAX integer ({@code uid}, {@code gid}, {@code size}). */
  static long paxInteger(byte[] value, String key) throws IOException {
    try {
      return Long.parseLong(new String(value, StandardCharsets.US_ASCII));
    } catch (NumberFormatException e) {
      throw new IOException("malformed PAX " + key + " record");
    }
  }

  /**
   * A PAX time ({@code seconds[.fraction]}, possibly negative) as {@code {seconds, nanos}} with
   * {@code nanos} in 0..999,999,999 and {@code seconds} the floor; digits past nanoseconds are
   * dropped (Go's {@code parsePAXTime}).
   */
  static long[] paxTime(byte[] value) throws IOException {
    String text = new String(value, StandardCharsets.US_ASCII);
    int dot = text.indexOf('.');
    String wholePart = dot < 0 ? text : text.substring(0, dot);
    String fraction = dot < 0 ? "" : text.substring(dot + 1);
    long seconds;
    try {
      seconds = Long.parseLong(wholePart);
    } catch (NumberFormatException e) {
      throw new IOException("malformed PAX mtime record");
    }
    if (fraction.isEmpty()) {
      return new long[] {seconds, 0};
    }
    for (int i = 0; i < fraction.length(); i++) {
      char c = fraction.charAt(i);
      if (c < '0' || c > '9') {
        throw new IOException("malformed PAX mtime record");
      }
    }
    String nineDigits =
        fraction.length() >= 9
            ? fraction.substring(0, 9)
            : fraction + "000000000".substring(fraction.length());
    long nanos = Long.parseLong(nineDigits);
    if (wholePart.startsWith("-") && nanos != 0) {
      // -1.25 is one and a quarter seconds before the epoch: floor -2, plus 0.75 s
      return new long[] {seconds - 1, 1_000_000_000L - nanos};
    }
    return new long[] {seconds, nanos};
  }

  static int indexOf(byte[] bytes, byte b) {
    for (int i = 0; i < bytes.length; i++) {
      if (bytes[i] == b) {
        return i;
      }
    }
    return -1;
  }
}
