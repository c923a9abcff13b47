package io.transship.server.config;

import java.time.Duration;

/**
 * What one client connection may cost, on the registry and the admin listener alike.
 *
 * @param headerTimeout time from a connection's start, or the end of its previous response, until
 *     the next request's headers are complete; bytes arriving meanwhile do not extend it
 *     (slowloris)
 * @param idleTimeout a connection that neither reads nor writes for this long is closed, whatever
 *     it is doing (a stuck response included)
 * @param maxConnections open connections per listener; more are answered 503 and closed
 * @param maxConnectionsPerAddress open connections from one client IP address per listener
 * @param maxRequestLine bytes of the request line (method, target, version); longer gets 414
 * @param maxHeaderBytes bytes of all header fields together; more gets 431
 */
public record ServerLimits(
    Duration headerTimeout,
    Duration idleTimeout,
    int maxConnections,
    int maxConnectionsPerAddress,
    int maxRequestLine,
    int maxHeaderBytes) {

  public ServerLimits {
    if (headerTimeout.isNegative() || headerTimeout.isZero()) {
      throw new IllegalArgumentException("connections.header-timeout must be positive");
    }
    if (idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new IllegalArgumentException("connections.idle-timeout must be positive");
    }
    if (maxConnections < 1 || maxConnectionsPerAddress < 1) {
      throw new IllegalArgumentException(
          "connections.max and connections.max-per-address must be at least 1");
    }
    if (maxRequestLine < 256 || maxHeaderBytes < 1024) {
      throw new IllegalArgumentException(
          "connections.max-request-line must be at least 256 bytes and max-header-bytes 1KiB");
    }
  }

  /** The embedded defaults (see defaults.yaml and docs/configuration.md for the reasons). */
  public static ServerLimits defaults() {
    return new ServerLimits(
        Duration.ofSeconds(20), Duration.ofMinutes(5), 10_000, 256, 8 * 1024, 32 * 1024);
  }
}
