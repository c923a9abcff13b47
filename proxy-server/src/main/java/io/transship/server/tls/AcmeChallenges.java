package io.transship.server.tls;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * HTTP-01 challenge answers (RFC 8555 section 8.3): while an order is being validated, {@code GET
 * /.well-known/acme-challenge/<token>} on the plain listener answers the key authorization.
 */
public final class AcmeChallenges {
  public static final String PREFIX = "/.well-known/acme-challenge/";

  private final Map<String, String> answers = new ConcurrentHashMap<>();

  void put(String token, String keyAuthorization) {
    answers.put(token, keyAuthorization);
  }

  void remove(String token) {
    answers.remove(token);
  }

  /** The key authorization for a request path, or empty. */
  public Optional<String> answer(String path) {
    if (!path.startsWith(PREFIX)) {
      return Optional.empty();
    }
    return Optional.ofNullable(answers.get(path.substring(PREFIX.length())));
  }
}
