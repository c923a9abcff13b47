package io.transship.server.auth;

/**
 * Where a request really comes from and how the client addressed us.
 *
 * @param address the client's IP address (the peer, or the first untrusted hop of {@code
 *     X-Forwarded-For} when the peer is a trusted proxy)
 * @param scheme {@code https} or {@code http} as the client used it
 * @param host the host (and port) the client addressed, for absolute URLs such as the token realm
 */
public record ClientOrigin(String address, String scheme, String host) {

  /** {@code <scheme>://<host>}. */
  public String baseUrl() {
    return scheme + "://" + host;
  }
}
