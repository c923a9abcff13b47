package io.transship.server.upstream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

/**
 * Credentials for one upstream: Basic, or bearer tokens obtained from the realm the upstream names
 * in its challenge ("Token Authentication Specification" of CNCF distribution), anonymously or with
 * the configured Basic credentials. Tokens are cached per scope until {@code expires_in} (60 s when
 * absent, as the specification says) minus a safety margin.
 */
public final class UpstreamAuth {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration DEFAULT_TOKEN_LIFETIME = Duration.ofSeconds(60);
  private static final Duration EXPIRY_MARGIN = Duration.ofSeconds(10);

  private final String username;
  private final String password;
  private final HttpClient http;
  private final Duration timeout;
  private final Clock clock;

  /**
   * Tokens by scope (one per repository pulled): bounded, since clients choose the repository
   * names; an evicted token is simply fetched again.
   */
  static final int MAX_TOKENS = 10_000;

  private final Map<String, Token> tokens =
      com.github.benmanes.caffeine.cache.Caffeine.newBuilder()
          .maximumSize(MAX_TOKENS)
          .<String, Token>build()
          .asMap();
  private volatile AuthChallenge lastChallenge;

  record Token(String value, Instant expires) {}

  public UpstreamAuth(
      String username, String password, HttpClient http, Duration timeout, Clock clock) {
    this.username = username;
    this.password = password;
    this.http = http;
    this.timeout = timeout;
    this.clock = clock;
  }

  /** The Authorization header to send for {@code scope}, if one is known without a round trip. */
  public Optional<String> authorization(String scope) throws IOException {
    AuthChallenge challenge = lastChallenge;
    if (challenge == null) {
      return Optional.empty();
    }
    if (challenge.isBasic()) {
      return basic();
    }
    if (challenge.isBearer()) {
      Token token = tokens.get(scope);
      if (token != null && clock.instant().isBefore(token.expires())) {
        return Optional.of("Bearer " + token.value());
      }
      return Optional.of("Bearer " + fetchToken(challenge, scope).value());
    }
    return Optional.empty();
  }

  /**
   * Learns from a 401 challenge and returns the Authorization header to retry with, or empty when
   * retrying can't help (no credentials for Basic, unknown scheme).
   */
  public Optional<String> onChallenge(String wwwAuthenticate, String scope) throws IOException {
    Optional<AuthChallenge> parsed = AuthChallenge.parse(wwwAuthenticate);
    if (parsed.isEmpty()) {
      return Optional.empty();
    }
    AuthChallenge challenge = parsed.get();
    lastChallenge = challenge;
    if (challenge.isBasic()) {
      return basic();
    }
    if (challenge.isBearer() && challenge.param("realm") != null) {
      tokens.remove(scope);
      return Optional.of("Bearer " + fetchToken(challenge, scope).value());
    }
    return Optional.empty();
  }

  private Optional<String> basic() {
    if (username == null || username.isEmpty()) {
      return Optional.empty();
    }
    String pair = username + ":" + (password == null ? "" : password);
    return Optional.of(
        "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8)));
  }

  private Token fetchToken(AuthChallenge challenge, String scope) throws IOException {
    StringBuilder url = new StringBuilder(challenge.param("realm"));
    url.append(url.indexOf("?") < 0 ? '?' : '&');
    if (challenge.param("service") != null) {
      url.append("service=").append(encode(challenge.param("service"))).append('&');
    }
    url.append("scope=").append(encode(scope));
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(url.toString())).timeout(timeout).GET();
    basic().ifPresent(value -> request.header("Authorization", value));
    HttpResponse<InputStream> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while fetching a token", e);
    }
    try (InputStream body = response.body()) {
      byte[] bytes = body.readNBytes(1 << 20);
      if (response.statusCode() != 200) {
        throw new UpstreamAuthException(
            "token endpoint answered " + response.statusCode(), response.statusCode());
      }
      JsonNode json = JSON.readTree(bytes);
      String value = json.path("token").asText(json.path("access_token").asText(""));
      if (value.isEmpty()) {
        throw new UpstreamAuthException("token endpoint answered without a token", 502);
      }
      long lifetime = json.path("expires_in").asLong(DEFAULT_TOKEN_LIFETIME.toSeconds());
      Duration usable = Duration.ofSeconds(Math.max(lifetime, 1)).minus(EXPIRY_MARGIN);
      Token token =
          new Token(value, clock.instant().plus(usable.isNegative() ? Duration.ZERO : usable));
      tokens.put(scope, token);
      return token;
    }
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  /** The token endpoint refused or failed; {@code status} is what it answered. */
  public static final class UpstreamAuthException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int status;

    UpstreamAuthException(String message, int status) {
      super(message);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }
}
