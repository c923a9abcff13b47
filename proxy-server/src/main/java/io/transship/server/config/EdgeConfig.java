package io.transship.server.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * How the proxy faces its clients: the TLS listener, client authentication and access rules, the
 * admin token and the load balancers whose forwarding headers are trusted.
 *
 * @param tls the HTTPS listener, or null when only plain HTTP is served
 * @param auth who may pull what; {@link Auth#enabled()} is false when nothing is configured
 * @param adminToken the bearer token admin actions require, or null when none is configured
 * @param trustedProxies CIDR blocks whose {@code X-Forwarded-*} headers are believed
 */
public record EdgeConfig(Tls tls, Auth auth, String adminToken, List<String> trustedProxies) {

  /** No TLS, no authentication, no admin token, no trusted proxies: the open proxy. */
  public static final EdgeConfig OPEN = new EdgeConfig(null, Auth.NONE, null, List.of());

  public EdgeConfig {
    auth = auth == null ? Auth.NONE : auth;
    trustedProxies = List.copyOf(trustedProxies);
  }

  /**
   * The HTTPS listener of the registry API.
   *
   * @param listen where it listens
   * @param certFile PEM certificate chain, leaf first (null with ACME)
   * @param keyFile PEM private key (PKCS#8, PKCS#1 or SEC1; RSA or EC; null with ACME)
   * @param reloadInterval how often both files are checked for a change
   * @param acme the ACME settings, or null when the files are managed outside
   */
  public record Tls(
      HostPort listen, Path certFile, Path keyFile, Duration reloadInterval, Acme acme) {

    /** Certificate and key from files. */
    public Tls(HostPort listen, Path certFile, Path keyFile, Duration reloadInterval) {
      this(listen, certFile, keyFile, reloadInterval, null);
    }
  }

  /**
   * A certificate obtained and renewed by transship over ACME (RFC 8555), HTTP-01 challenges
   * answered on the plain listener, kept in storage.
   *
   * @param directory the ACME directory URL
   * @param email contact address for the account, or null
   * @param domains host names the certificate is for
   * @param caFile extra CA certificates (PEM) to trust for the ACME server's own HTTPS, or null
   * @param renewBefore renew when the certificate expires sooner than this
   * @param checkInterval how often expiry and storage are checked
   */
  public record Acme(
      java.net.URI directory,
      String email,
      List<String> domains,
      Path caFile,
      Duration renewBefore,
      Duration checkInterval) {
    public Acme {
      domains = List.copyOf(domains);
    }
  }

  /**
   * Client authentication and authorization.
   *
   * @param htpasswd an htpasswd file of bcrypt hashes, reloaded when it changes; null for none
   * @param users users from the configuration
   * @param access who may pull which repositories; the first rule that names a user and matches a
   *     repository grants it, nothing else is allowed
   * @param challenge {@code bearer} (token flow, Basic accepted too) or {@code basic}
   * @param realm the token endpoint URL to announce; null: derived from the request
   * @param tokenTtl lifetime of issued tokens
   * @param tokenSecret HMAC key of tokens (shared by replicas); null: random per process
   * @param cacheTtl how long a verified password is remembered
   */
  public record Auth(
      Path htpasswd,
      Map<String, User> users,
      List<AccessRule> access,
      String challenge,
      String realm,
      Duration tokenTtl,
      String tokenSecret,
      Duration cacheTtl) {

    public static final Auth NONE =
        new Auth(
            null,
            Map.of(),
            List.of(),
            "bearer",
            null,
            Duration.ofMinutes(5),
            null,
            Duration.ofMinutes(5));

    public Auth {
      users = Map.copyOf(users);
      access = List.copyOf(access);
    }

    /** Authentication is on once any user source or access rule is configured. */
    public boolean enabled() {
      return htpasswd != null || !users.isEmpty() || !access.isEmpty();
    }
  }

  /**
   * A configured user: a bcrypt hash, or a clear-text password (from the environment).
   *
   * @param bcrypt {@code $2y$...} as {@code htpasswd -B} writes it, or null
   * @param password the password itself, or null
   */
  public record User(String bcrypt, String password) {
    @Override
    public String toString() {
      return bcrypt != null ? "User[bcrypt]" : "User[password]";
    }
  }

  /**
   * One access rule.
   *
   * @param users user names; {@code anonymous} for clients without credentials, {@code
   *     authenticated} for every user who signed in
   * @param repositories {@code <alias>/<repository glob>}: {@code *} within a path segment, {@code
   *     **} across segments
   */
  public record AccessRule(List<String> users, List<String> repositories) {
    public AccessRule {
      users = List.copyOf(users);
      repositories = List.copyOf(repositories);
    }
  }

  @Override
  public String toString() {
    return "EdgeConfig[tls="
        + tls
        + ", auth="
        + (auth.enabled() ? "on" : "off")
        + ", adminToken="
        + (adminToken == null ? "none" : "set")
        + ", trustedProxies="
        + trustedProxies
        + "]";
  }
}
