package io.transship.server.http;

import io.transship.server.auth.AdminGuard;
import io.transship.server.auth.AuthGate;
import io.transship.server.auth.TrustedProxies;
import io.transship.server.tls.AcmeChallenges;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * What faces clients besides plain HTTP: the TLS listener, the authentication gate, trusted proxies
 * and the admin guard.
 *
 * @param tlsListen where the HTTPS listener binds, or null for none
 * @param tls the reloadable server TLS context (non-null with {@code tlsListen})
 * @param gate authentication and authorization of the registry API
 * @param proxies whose {@code X-Forwarded-*} headers are believed
 * @param admin who may use admin actions
 * @param acme HTTP-01 challenge answers served on the plain listener, or null without ACME
 */
public record EdgeOptions(
    InetSocketAddress tlsListen,
    ServerTls tls,
    AuthGate gate,
    TrustedProxies proxies,
    AdminGuard admin,
    AcmeChallenges acme) {

  /** Plain HTTP only, no authentication; admin actions open (loopback admin listener). */
  public static EdgeOptions open() {
    return new EdgeOptions(
        null,
        null,
        AuthGate.open(),
        new TrustedProxies(List.of()),
        new AdminGuard(null, true),
        null);
  }
}
