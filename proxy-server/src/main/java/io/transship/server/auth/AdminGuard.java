package io.transship.server.auth;

import io.transship.oci.ErrorCode;
import io.transship.oci.RegistryException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Set;

/**
 * The admin port's rule: the probes ({@code /metrics}, {@code /healthz}, {@code /readyz}) are open;
 * every other endpoint ({@code POST /warm}, {@code /resolve}) needs {@code Authorization: Bearer
 * <admin token>} once a token is configured. Without a token, actions are served only on a loopback
 * admin listener; on any other address they are refused, so an admin port opened for Prometheus
 * does not become a way to make the proxy download and convert images.
 */
public final class AdminGuard {
  private static final Set<String> PROBES = Set.of("/metrics", "/healthz", "/readyz");

  private final byte[] token;
  private final boolean loopback;

  /**
   * @param token the configured token, or null
   */
  public AdminGuard(String token, boolean loopback) {
    this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
    this.loopback = loopback;
  }

  /** Whether actions are possible at all (for the start-up log). */
  public boolean actionsEnabled() {
    return token != null || loopback;
  }

  /** Throws {@code 401}/{@code 403} unless the request may go on. */
  public void check(String path, String authorization) {
    if (PROBES.contains(path)) {
      return;
    }
    if (token == null) {
      if (loopback) {
        return;
      }
      throw new RegistryException(
          ErrorCode.DENIED,
          "admin actions are off: the admin listener is not loopback and no admin.token is set");
    }
    byte[] given =
        authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
            ? authorization.substring(7).strip().getBytes(StandardCharsets.UTF_8)
            : new byte[0];
    if (!MessageDigest.isEqual(token, given)) {
      throw new RegistryException(
          ErrorCode.UNAUTHORIZED,
          "admin token required (Authorization: Bearer; transship warm reads"
              + " TRANSSHIP_ADMIN__TOKEN or --admin-token-file)",
          null,
          Map.of("WWW-Authenticate", "Bearer realm=\"transship-admin\""),
          null);
    }
  }
}
