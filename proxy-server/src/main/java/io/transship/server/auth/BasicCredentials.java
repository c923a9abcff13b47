package io.transship.server.auth;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;

/**
 * User and password of an {@code Authorization: Basic} header (RFC 7617). {@link #toString()} never
 * shows the password.
 */
public record BasicCredentials(String user, String password) {

  /** Parses {@code Basic base64(user:password)}; empty when the header is not that. */
  public static Optional<BasicCredentials> parse(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
      return Optional.empty();
    }
    byte[] decoded;
    try {
      decoded = Base64.getDecoder().decode(authorization.substring(6).strip());
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    String pair = new String(decoded, StandardCharsets.UTF_8);
    int colon = pair.indexOf(':');
    if (colon <= 0) {
      return Optional.empty();
    }
    return Optional.of(new BasicCredentials(pair.substring(0, colon), pair.substring(colon + 1)));
  }

  /** The user name made safe for a log line: printable, at most 64 characters. */
  public static String loggable(String user) {
    if (user == null) {
      return "-";
    }
    StringBuilder safe = new StringBuilder();
    user.codePoints()
        .limit(64)
        .forEach(c -> safe.appendCodePoint(c < 0x20 || c == 0x7f || c == '"' ? '?' : c));
    return safe.toString();
  }

  @Override
  public String toString() {
    return "BasicCredentials[" + loggable(user) + ", password hidden]";
  }
}
