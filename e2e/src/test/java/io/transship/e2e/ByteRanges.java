package io.transship.e2e;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses {@code Content-Range} values and {@code multipart/byteranges} bodies (RFC 9110 §14). */
public final class ByteRanges {
  private ByteRanges() {}

  /** One part: its Content-Range {@code first-last/complete} and its bytes. */
  public record Part(long first, long last, long complete, byte[] data) {}

  private static final Pattern CONTENT_RANGE =
      Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)", Pattern.CASE_INSENSITIVE);

  /** {first, last, complete} of a satisfied Content-Range; complete is -1 for "*". */
  public static long[] contentRange(String value) {
    Matcher m = CONTENT_RANGE.matcher(value == null ? "" : value.trim());
    if (!m.matches()) {
      throw new AssertionError("not a satisfied byte Content-Range: '" + value + "'");
    }
    long complete = m.group(3).equals("*") ? -1 : Long.parseLong(m.group(3));
    return new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), complete};
  }

  /** The boundary parameter of a {@code multipart/byteranges} Content-Type. */
  public static String boundary(String contentType) {
    if (contentType == null || !contentType.toLowerCase().startsWith("multipart/byteranges")) {
      throw new AssertionError(
          "expected Content-Type multipart/byteranges, got '" + contentType + "'");
    }
    Matcher m =
        Pattern.compile(";\\s*boundary=(\"([^\"]+)\"|[^;\\s]+)", Pattern.CASE_INSENSITIVE)
            .matcher(contentType);
    if (!m.find()) {
      throw new AssertionError("no boundary in '" + contentType + "'");
    }
    return m.group(2) != null ? m.group(2) : m.group(1);
  }

  /**
   * Splits a multipart/byteranges body strictly: each part's data length is taken from its
   * Content-Range and must be followed by CRLF and the next delimiter; the body ends with the close
   * delimiter.
   */
  public static List<Part> parse(byte[] body, String boundary) {
    byte[] delim = ("--" + boundary).getBytes(StandardCharsets.ISO_8859_1);
    List<Part> parts = new ArrayList<>();
    int pos = indexOf(body, delim, 0);
    if (pos < 0) {
      throw new AssertionError("no delimiter --" + boundary + " in the multipart body");
    }
    while (true) {
      pos += delim.length;
      if (startsWith(body, pos, "--")) {
        return parts; // close delimiter; an epilogue may follow
      }
      pos = expect(body, pos, "\r\n");
      int headersEnd = indexOf(body, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), pos);
      if (headersEnd < 0) {
        throw new AssertionError("part " + parts.size() + " has no end of headers");
      }
      String headers = new String(body, pos, headersEnd - pos, StandardCharsets.ISO_8859_1);
      String range = null;
      for (String h : headers.split("\r\n")) {
        int colon = h.indexOf(':');
        if (colon > 0 && h.substring(0, colon).trim().equalsIgnoreCase("Content-Range")) {
          range = h.substring(colon + 1).trim();
        }
      }
      if (range == null) {
        throw new AssertionError("part " + parts.size() + " has no Content-Range: " + headers);
      }
      long[] r = contentRange(range);
      int dataStart = headersEnd + 4;
      int dataEnd = Math.toIntExact(dataStart + (r[1] - r[0] + 1));
      if (dataEnd > body.length) {
        throw new AssertionError("part " + parts.size() + " (" + range + ") runs past the body");
      }
      parts.add(new Part(r[0], r[1], r[2], Arrays.copyOfRange(body, dataStart, dataEnd)));
      pos = expect(body, dataEnd, "\r\n");
      if (!startsWith(body, pos, "--" + boundary)) {
        throw new AssertionError(
            "part " + parts.size() + " data is not followed by CRLF and the delimiter");
      }
    }
  }

  private static int expect(byte[] b, int pos, String s) {
    if (!startsWith(b, pos, s)) {
      throw new AssertionError(
          "multipart body: expected " + s.replace("\r\n", "CRLF") + " at offset " + pos);
    }
    return pos + s.length();
  }

  private static boolean startsWith(byte[] b, int pos, String s) {
    byte[] p = s.getBytes(StandardCharsets.ISO_8859_1);
    if (pos + p.length > b.length) {
      return false;
    }
    return Arrays.equals(b, pos, pos + p.length, p, 0, p.length);
  }

  private static int indexOf(byte[] b, byte[] p, int from) {
    outer:
    for (int i = from; i <= b.length - p.length; i++) {
      for (int j = 0; j < p.length; j++) {
        if (b[i + j] != p[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
