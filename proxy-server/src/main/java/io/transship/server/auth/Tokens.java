package io.transship.server.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Short-lived bearer tokens: {@code base64url(claims) "." base64url(HMAC-SHA-256(claims))}, the
 * claims naming the subject, issue and expiry times (seconds) and the repositories granted ({@code
 * <alias>/<repository>}). Only this proxy (or replicas sharing {@code auth.token-secret}) can make
 * or read them; clients treat them as opaque, as the Docker token spec allows.
 */
public final class Tokens {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration CLOCK_SKEW = Duration.ofSeconds(30);

  private final SecretKeySpec key;
  private final Duration ttl;
  private final Clock clock;

  /**
   * @param secret the shared HMAC key, or null for a random one
   */
  public Tokens(String secret, Duration ttl, Clock clock) {
    byte[] bytes;
    if (secret == null) {
      bytes = new byte[32];
      new SecureRandom().nextBytes(bytes);
    } else {
      bytes = secret.getBytes(StandardCharsets.UTF_8);
    }
    this.key = new SecretKeySpec(bytes, "HmacSHA256");
    this.ttl = ttl;
    this.clock = clock;
  }

  /** What a valid token says. {@code subject} is null for anonymous. */
  public record Grant(String subject, Set<String> repositories, Instant issuedAt, Instant expires) {
    public Grant {
      repositories = Set.copyOf(repositories);
    }
  }

  public Duration ttl() {
    return ttl;
  }

  /** Issues a token for {@code subject} (null: anonymous) granting {@code repositories}. */
  public String issue(String subject, Set<String> repositories, Instant now) {
    ObjectNode claims = JSON.createObjectNode();
    if (subject != null) {
      claims.put("sub", subject);
    }
    claims.put("iat", now.getEpochSecond());
    claims.put("exp", now.plus(ttl).getEpochSecond());
    ArrayNode granted = claims.putArray("repos");
    repositories.forEach(granted::add);
    String payload =
        Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(claims.toString().getBytes(StandardCharsets.UTF_8));
    return payload + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(sign(payload));
  }

  /** The grant of a genuine, unexpired token; empty for anything else. */
  public Optional<Grant> verify(String token) {
    int dot = token.indexOf('.');
    if (dot <= 0 || dot != token.lastIndexOf('.')) {
      return Optional.empty();
    }
    String payload = token.substring(0, dot);
    byte[] signature;
    try {
      signature = Base64.getUrlDecoder().decode(token.substring(dot + 1));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    if (!MessageDigest.isEqual(sign(payload), signature)) {
      return Optional.empty();
    }
    try {
      JsonNode claims = JSON.readTree(Base64.getUrlDecoder().decode(payload));
      Instant issued = Instant.ofEpochSecond(claims.path("iat").asLong());
      Instant expires = Instant.ofEpochSecond(claims.path("exp").asLong());
      Instant now = clock.instant();
      if (!now.isBefore(expires) || issued.isAfter(now.plus(CLOCK_SKEW))) {
        return Optional.empty();
      }
      Set<String> repositories = new LinkedHashSet<>();
      claims.path("repos").forEach(r -> repositories.add(r.asText()));
      String subject = claims.hasNonNull("sub") ? claims.get("sub").asText() : null;
      return Optional.of(new Grant(subject, repositories, issued, expires));
    } catch (IOException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private byte[] sign(String payload) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      return mac.doFinal(payload.getBytes(StandardCharsets.US_ASCII));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
