package io.transship.server.upstream;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One {@code WWW-Authenticate} challenge (RFC 9110 section 11.6.1), e.g. {@code Bearer
 * realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:x:pull"}.
 *
 * @param scheme lower-cased scheme: {@code bearer} or {@code basic}
 * @param params auth-params with lower-cased names and unquoted values
 */
public record AuthChallenge(String scheme, Map<String, String> params) {

  public AuthChallenge {
    params = Map.copyOf(params);
  }

  /** Parses the first challenge of a header value; empty when there is none. */
  public static Optional<AuthChallenge> parse(String header) {
    if (header == null || header.isBlank()) {
      return Optional.empty();
    }
    String text = header.trim();
    int space = text.indexOf(' ');
    String scheme = (space < 0 ? text : text.substring(0, space)).toLowerCase(Locale.ROOT);
    Map<String, String> params = new LinkedHashMap<>();
    int i = space < 0 ? text.length() : space + 1;
    while (i < text.length()) {
      while (i < text.length() && (text.charAt(i) == ' ' || text.charAt(i) == ',')) {
        i++;
      }
      int eq = text.indexOf('=', i);
      if (eq < 0) {
        break;
      }
      String name = text.substring(i, eq).trim().toLowerCase(Locale.ROOT);
      if (name.contains(" ")) {
        break; // a second challenge starts here
      }
      i = eq + 1;
      StringBuilder value = new StringBuilder();
      if (i < text.length() && text.charAt(i) == '"') {
        i++;
        while (i < text.length() && text.charAt(i) != '"') {
          char c = text.charAt(i++);
          if (c == '\\' && i < text.length()) {
            c = text.charAt(i++);
          }
          value.append(c);
        }
        i++; // closing quote
      } else {
        while (i < text.length() && text.charAt(i) != ',') {
          value.append(text.charAt(i++));
        }
      }
      params.put(name, value.toString().trim());
    }
    return Optional.of(new AuthChallenge(scheme, params));
  }

  public boolean isBearer() {
    return "bearer".equals(scheme);
  }

  public boolean isBasic() {
    return "basic".equals(scheme);
  }

  public String param(String name) {
    return params.get(name);
  }
}
