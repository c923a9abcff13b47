package io.transship.converter;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.IntToLongFunction;

/**
 * Writes the TOC JSON, {@code {"version":1,"entries":[...]}}, compactly and always in the same
 * field order (docs/formats.md "TOC JSON": any JSON bytes will do as long as the {@code
 * containerd.io/snapshot/stargz/toc.digest} annotation is their sha256). Hand-written rather than
 * data-bound so that the bytes, and therefore the TOC digest and the blob digest, never depend on a
 * JSON library's version or settings.
 */
final class TocJson {

  private static final long GO_ZERO_TIME = -62135596800L; // 0001-01-01T00:00:00Z

  private TocJson() {}

  /**
   * The JSON bytes of a TOC.
   *
   * @param memberOffset the compressed offset of the gzip member with the given index
   */
  static byte[] write(List<TocEntry> entries, IntToLongFunction memberOffset) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 + entries.size() * 160);
    StringBuilder json = new StringBuilder(256);
    ascii(out, "{\"version\":1,\"entries\":[");
    boolean first = true;
    for (TocEntry e : entries) {
      json.setLength(0);
      if (!first) {
        json.append(',');
      }
      first = false;
      json.append('{');
      string(json, "name", e.name);
      json.append(',');
      string(json, "type", e.type);
      number(json, "size", e.size);
      optionalString(json, "modtime", e.modtime);
      optionalString(json, "linkName", e.linkName);
      number(json, "mode", e.mode);
      number(json, "uid", e.uid);
      number(json, "gid", e.gid);
      optionalString(json, "userName", e.userName);
      optionalString(json, "groupName", e.groupName);
      if (e.member != TocEntry.NO_MEMBER) {
        number(json, "offset", memberOffset.applyAsLong(e.member));
      }
      number(json, "devMajor", e.devMajor);
      number(json, "devMinor", e.devMinor);
      if (!e.xattrs.isEmpty()) {
        json.append(",\"xattrs\":{");
        boolean firstXattr = true;
        for (Map.Entry<String, byte[]> xattr : e.xattrs.entrySet()) {
          if (!firstXattr) {
            json.append(',');
          }
          firstXattr = false;
          quote(json, xattr.getKey());
          json.append(':');
          quote(json, Base64.getEncoder().encodeToString(xattr.getValue()));
        }
        json.append('}');
      }
      optionalString(json, "digest", e.digest);
      number(json, "chunkOffset", e.chunkOffset);
      number(json, "chunkSize", e.chunkSize);
      optionalString(json, "chunkDigest", e.chunkDigest);
      json.append('}');
      out.writeBytes(json.toString().getBytes(StandardCharsets.UTF_8));
    }
    ascii(out, "]}");
    return out.toByteArray();
  }

  /**
   * The TOC {@code modtime}: RFC 3339 in UTC, rounded to the nearest second (halves up), empty for
   * the epoch's first second and Go's zero time — the reference's {@code formatModtime}, so that
   * readers comparing with the tar header agree.
   *
   * @throws UnsupportedLayerException for a time outside years -999,999,999..999,999,999
   */
  static String modtime(long seconds, int nanos) throws UnsupportedLayerException {
    if (seconds == 0 || (seconds == GO_ZERO_TIME && nanos == 0)) {
      return "";
    }
    long rounded = nanos >= 500_000_000 ? seconds + 1 : seconds;
    LocalDateTime t;
    try {
      t = LocalDateTime.ofEpochSecond(rounded, 0, ZoneOffset.UTC);
    } catch (DateTimeException e) {
      throw new UnsupportedLayerException("modification time " + seconds + " out of range");
    }
    StringBuilder s = new StringBuilder(20);
    int year = t.getYear();
    if (year < 0) {
      s.append('-');
      year = -year;
    }
    pad(s, year, 4).append('-');
    pad(s, t.getMonthValue(), 2).append('-');
    pad(s, t.getDayOfMonth(), 2).append('T');
    pad(s, t.getHour(), 2).append(':');
    pad(s, t.getMinute(), 2).append(':');
    pad(s, t.getSecond(), 2).append('Z');
    return s.toString();
  }

  private static StringBuilder pad(StringBuilder s, int value, int width) {
    String digits = Integer.toString(value);
    for (int i = digits.length(); i < width; i++) {
      s.append('0');
    }
    return s.append(digits);
  }

  private static void ascii(ByteArrayOutputStream out, String s) {
    out.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
  }

  private static void number(StringBuilder json, String key, long value) {
    if (value != 0) {
      json.append(",\"").append(key).append("\":").append(value);
    }
  }

  private static void optionalString(StringBuilder json, String key, String value) {
    if (!value.isEmpty()) {
      json.append(',');
      string(json, key, value);
    }
  }

  private static void string(StringBuilder json, String key, String value) {
    json.append('"').append(key).append("\":");
    quote(json, value);
  }

  /** A JSON string (RFC 8259 section 7): quote, backslash and control characters escaped. */
  static void quote(StringBuilder json, String value) {
    json.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> json.append("\\\"");
        case '\\' -> json.append("\\\\");
        case '\n' -> json.append("\\n");
        case '\r' -> json.append("\\r");
        case '\t' -> json.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            json.append(String.format("\\u%04x", (int) c));
          } else {
            json.append(c);
          }
        }
      }
    }
    json.append('"');
  }
}
