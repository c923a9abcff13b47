/**
 * Who is calling, proven how, allowed what — without Netty.
 *
 * <ul>
 *   <li>{@link io.transship.server.auth.TrustedProxies} decides the client address, scheme and
 *       host, believing {@code X-Forwarded-*} only from configured proxies;
 *   <li>{@link io.transship.server.auth.UserDirectory} holds users (htpasswd bcrypt, reloaded on
 *       change; configured users) and {@link io.transship.server.auth.Authenticator} checks
 *       passwords with a bounded, expiring cache so bcrypt runs once per credential, not per
 *       request;
 *   <li>{@link io.transship.server.auth.AccessRules} maps users and {@code anonymous} to
 *       repositories by {@code <alias>/<glob>}, default deny;
 *   <li>{@link io.transship.server.auth.Tokens} issues and verifies short-lived HMAC-signed bearer
 *       tokens bound to the repositories granted (the Docker token flow,
 *       distribution/docs/spec/auth/token.md);
 *   <li>{@link io.transship.server.auth.AuthGate} puts them together for the registry API: {@code
 *       401 UNAUTHORIZED} with a {@code WWW-Authenticate} challenge for missing or wrong
 *       credentials, {@code 403 DENIED} for a known user without access, and the {@code /token}
 *       endpoint; {@link io.transship.server.auth.AdminGuard} does it for the admin port.
 * </ul>
 *
 * <p>Secrets never reach a log line or an error body: failures are logged with the user name and
 * client address only, comparisons of secrets are constant-time ({@link
 * java.security.MessageDigest#isEqual}), and a client's {@code Authorization} header is used here
 * and nowhere else (it is never forwarded upstream).
 */
package io.transship.server.auth;
