package io.transship.server.logging;

/**
 * Escapes a client-controlled value for a text log line: control bytes (including NUL, CR, LF, ESC)
 * and DEL become {@code \xNN}, {@code "} and {@code \} are backslash-escaped, so a value can never
 * end its quoted field, start a new line or drive a terminal; overlong values are cut (the line
 * stays bounded). JSON logs need no such care: the encoder escapes every field.
 */
public final class LogText {
  /** Longest value kept, in characters. */
  public static final int MAX_LENGTH = 512;

  private LogText() {}

  /** The escaped value; {@code null} stays {@code -}. */
  public static String escape(String value) {
    if (value == null) {
      return "-";
    }
    int n = Math.min(value.length(), MAX_LENGTH);
    StringBuilder out = null;
    for (int i = 0; i < n; i++) {
      char c = value.charAt(i);
      boolean bad = c < 0x20 || c == 0x7f || c == '"' || c == '\\' || (c >= 0x80 && c < 0xa0);
      if (bad && out == null) {
        out = new StringBuilder(n + 16).append(value, 0, i);
      }
      if (out != null) {
        if (c == '"' || c == '\\') {
          out.append('\\').append(c);
        } else if (bad) {
          out.append(String.format("\\x%02x", (int) c));
        } else {
          out.append(c);
        }
      }
    }
    String result = out == null ? value.substring(0, n) : out.toString();
    return value.length() > MAX_LENGTH ? result + "...(" + value.length() + " chars)" : result;
  }
}
