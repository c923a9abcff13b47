package io.transship.server.auth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.transship.oci.ErrorCode;
import io.transship.oci.RegistryException;
import io.transship.server.config.EdgeConfig;
import io.transship.server.reply.Body;
import io.transship.server.reply.Reply;
import io.transship.server.routing.RegistryRequest;
import io.transship.server.routing.RequestRouter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authentication and authorization of the registry API, as the distribution spec's token flow
 * (distribution/docs/spec/auth/token.md) and Basic auth (RFC 7617) expect it:
 *
 * <ul>
 *   <li>{@code GET /v2/} needs valid credentials (Basic or a token, an anonymous token included):
 *       its {@code 401} is what makes {@code docker login} and other clients authenticate;
 *   <li>a repository request is allowed when the caller may pull that repository by the {@link
 *       AccessRules}, checked on the routed {@code <alias>/<repository>}. No or wrong credentials
 *       get {@code 401 UNAUTHORIZED} with a challenge; a signed-in user without access gets {@code
 *       403 DENIED}; a token without that repository in its grant gets {@code 401} with {@code
 *       error="insufficient_scope"} so the client fetches a new one;
 *   <li>{@code GET /token?service=&scope=repository:<name>:pull} takes Basic credentials (or none,
 *       when anonymous may pull something) and issues a token for the requested repositories the
 *       caller may pull.
 * </ul>
 *
 * The challenge's scope names the routed repository as {@code <alias>/<repository>}, which routes
 * to the same place whatever the request used ({@code ?ns=}, default upstream), so tokens bind to
 * upstream repositories, not to client spellings.
 */
public final class AuthGate {
  private static final Logger LOG = LoggerFactory.getLogger(AuthGate.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The token endpoint's path. */
  public static final String TOKEN_PATH = "/token";

  static final String SERVICE = "transship";
  private static final int MAX_SCOPES = 32;

  private final boolean enabled;
  private final EdgeConfig.Auth config;
  private final Authenticator authenticator;
  private final AccessRules rules;
  private final Tokens tokens;
  private final RequestRouter router;
  private final Clock clock;

  public AuthGate(
      EdgeConfig.Auth config,
      Authenticator authenticator,
      AccessRules rules,
      Tokens tokens,
      RequestRouter router,
      Clock clock) {
    this.enabled = config.enabled();
    this.config = config;
    this.authenticator = authenticator;
    this.rules = rules;
    this.tokens = tokens;
    this.router = router;
    this.clock = clock;
  }

  /** A gate that lets everything through (no {@code auth} configured). */
  public static AuthGate open() {
    return new AuthGate(EdgeConfig.Auth.NONE, null, new AccessRules(List.of()), null, null, null);
  }

  public boolean enabled() {
    return enabled;
  }

  /** Whether this request is for the gate itself (the token endpoint). */
  public boolean handles(String path) {
    return enabled && TOKEN_PATH.equals(path);
  }

  /** Throws {@code 401}/{@code 403} unless the caller may make this request. */
  public void check(RegistryRequest request, String authorization, ClientOrigin origin) {
    if (!enabled) {
      return;
    }
    String repository =
        switch (request) {
          case RegistryRequest.Base base -> null;
          case RegistryRequest.Manifest m -> m.route().describe();
          case RegistryRequest.Blob b -> b.route().describe();
          case RegistryRequest.TagsList t -> t.route().describe();
          case RegistryRequest.Referrers r -> r.route().describe();
        };
    Caller caller = authenticate(authorization, origin, repository);
    if (repository == null) {
      if (caller == null) {
        throw unauthorized(origin, null, null);
      }
      return;
    }
    if (caller == null) {
      if (rules.allows(null, repository)) {
        return;
      }
      throw unauthorized(origin, repository, null);
    }
    boolean allowed = rules.allows(caller.user(), repository);
    if (caller.grant() == null) {
      if (allowed) {
        return;
      }
      throw denied(caller.user(), repository, origin);
    }
    if (allowed && caller.grant().repositories().contains(repository)) {
      return;
    }
    if (allowed || caller.user() == null) {
      throw unauthorized(origin, repository, "insufficient_scope");
    }
    throw denied(caller.user(), repository, origin);
  }

  /** The token endpoint. */
  public Reply token(
      String method, Map<String, List<String>> query, String authorization, ClientOrigin origin) {
    if (!"GET".equals(method)) {
      throw new RegistryException(ErrorCode.UNSUPPORTED, "the token endpoint takes GET");
    }
    String user = null;
    if (authorization != null && !authorization.isBlank()) {
      Optional<BasicCredentials> basic = BasicCredentials.parse(authorization);
      if (basic.isEmpty()) {
        authenticator.failed("malformed", null, origin.address());
        throw basicChallenge();
      }
      if (!authenticator.verify(basic.get(), origin.address())) {
        throw basicChallenge();
      }
      user = basic.get().user();
    } else if (!rules.anonymousAllowedSomewhere()) {
      throw basicChallenge();
    }
    Set<String> granted = new LinkedHashSet<>();
    int scopes = 0;
    for (String parameter : query.getOrDefault("scope", List.of())) {
      for (String scope : parameter.split(" ")) {
        if (scope.isEmpty() || ++scopes > MAX_SCOPES) {
          continue;
        }
        String repository = pullRepository(scope);
        if (repository != null && rules.allows(user, repository)) {
          granted.add(repository);
        }
      }
    }
    Instant now = clock.instant();
    String token = tokens.issue(user, granted, now);
    LOG.debug(
        "token for {} from {}: {}",
        user == null ? AccessRules.ANONYMOUS : BasicCredentials.loggable(user),
        origin.address(),
        granted);
    ObjectNode body = JSON.createObjectNode();
    body.put("token", token);
    body.put("access_token", token);
    body.put("expires_in", tokens.ttl().toSeconds());
    body.put("issued_at", now.toString());
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", "application/json");
    headers.put("Cache-Control", "no-store");
    return new Reply(
        200, headers, new Body.Bytes(body.toString().getBytes(StandardCharsets.UTF_8)));
  }

  /** {@code repository:<name>:<actions>} with {@code pull} → routed {@code alias/repository}. */
  private String pullRepository(String scope) {
    int first = scope.indexOf(':');
    int last = scope.lastIndexOf(':');
    if (first <= 0 || last <= first || !scope.substring(0, first).equals("repository")) {
      return null;
    }
    if (!List.of(scope.substring(last + 1).split(",")).contains("pull")) {
      return null;
    }
    try {
      return router.routeImage(scope.substring(first + 1, last)).describe();
    } catch (RuntimeException e) {
      return null;
    }
  }

  private record Caller(String user, Tokens.Grant grant) {}

  private Caller authenticate(String authorization, ClientOrigin origin, String repository) {
    if (authorization == null || authorization.isBlank()) {
      return null;
    }
    if (authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      Optional<Tokens.Grant> grant = tokens.verify(authorization.substring(7).strip());
      if (grant.isEmpty()) {
        authenticator.failed("bad-token", null, origin.address());
        throw unauthorized(origin, repository, "invalid_token");
      }
      return new Caller(grant.get().subject(), grant.get());
    }
    Optional<BasicCredentials> basic = BasicCredentials.parse(authorization);
    if (basic.isEmpty()) {
      authenticator.failed("malformed", null, origin.address());
      throw unauthorized(origin, repository, null);
    }
    if (!authenticator.verify(basic.get(), origin.address())) {
      throw unauthorized(origin, repository, null);
    }
    return new Caller(basic.get().user(), null);
  }

  private RegistryException denied(String user, String repository, ClientOrigin origin) {
    LOG.info(
        "access denied: user={} repository={} client={}",
        BasicCredentials.loggable(user),
        repository,
        origin.address());
    return new RegistryException(
        ErrorCode.DENIED, "requested access to the resource is denied", repository);
  }

  private RegistryException unauthorized(ClientOrigin origin, String repository, String error) {
    String challenge;
    if (config.challenge().equals("basic")) {
      challenge = "Basic realm=\"" + SERVICE + "\"";
    } else {
      String realm = config.realm() != null ? config.realm() : origin.baseUrl() + TOKEN_PATH;
      challenge = "Bearer realm=\"" + realm + "\",service=\"" + SERVICE + "\"";
      if (repository != null) {
        challenge += ",scope=\"repository:" + repository + ":pull\"";
      }
      if (error != null) {
        challenge += ",error=\"" + error + "\"";
      }
    }
    return new RegistryException(
        ErrorCode.UNAUTHORIZED,
        "authentication required",
        null,
        Map.of("WWW-Authenticate", challenge),
        null);
  }

  private static RegistryException basicChallenge() {
    return new RegistryException(
        ErrorCode.UNAUTHORIZED,
        "authentication required",
        null,
        Map.of("WWW-Authenticate", "Basic realm=\"" + SERVICE + "\""),
        null);
  }
}
