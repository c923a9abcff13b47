package io.transship.server.config;

import java.net.InetSocketAddress;

/** A listen address {@code host:port}; {@code [::1]:5000} for IPv6, {@code :5000} for all. */
public record HostPort(String host, int port) {

  public static HostPort parse(String text) {
    String value = text.trim();
    int colon = value.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("listen address needs host:port, got '" + text + "'");
    }
    String host = value.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(value.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad port in '" + text + "'");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port out of range in '" + text + "'");
    }
    return new HostPort(host.isEmpty() ? "0.0.0.0" : host, port);
  }

  public InetSocketAddress toSocketAddress() {
    return new InetSocketAddress(host, port);
  }

  @Override
  public String toString() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }
}
