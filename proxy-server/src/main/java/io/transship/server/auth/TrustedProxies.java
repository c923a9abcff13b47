package io.transship.server.auth;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Load balancers (an AWS ALB or NLB, nginx) whose {@code X-Forwarded-For}, {@code
 * X-Forwarded-Proto} and {@code X-Forwarded-Host} headers are believed. From anyone else the
 * headers are ignored: a client could otherwise claim any address or host.
 *
 * <p>The client address is found by walking {@code X-Forwarded-For} from the right (the hop nearest
 * to us) past trusted proxies; the first address that is not a trusted proxy is the client. Proto
 * and host are taken from the last value, the one the trusted proxy in front of us set.
 */
public final class TrustedProxies {
  private static final Pattern HOST =
      Pattern.compile("[A-Za-z0-9.\\-]+(:\\d{1,5})?|\\[[0-9A-Fa-f:.]+\\](:\\d{1,5})?");

  private final List<Cidr> trusted;

  public TrustedProxies(List<String> cidrs) {
    List<Cidr> parsed = new ArrayList<>();
    for (String cidr : cidrs) {
      parsed.add(Cidr.parse(cidr));
    }
    this.trusted = List.copyOf(parsed);
  }

  /**
   * @param peer the address of the TCP peer
   * @param tls whether the connection to us is TLS
   * @param header request headers by name (repeated ones joined with {@code ", "})
   */
  public ClientOrigin resolve(InetAddress peer, boolean tls, Function<String, String> header) {
    String scheme = tls ? "https" : "http";
    String host = validHost(header.apply("Host"));
    String address = peer == null ? "-" : peer.getHostAddress();
    if (peer == null || !isTrusted(peer)) {
      return new ClientOrigin(address, scheme, host);
    }
    String forwardedFor = header.apply("X-Forwarded-For");
    if (forwardedFor != null) {
      String[] hops = forwardedFor.split(",");
      for (int i = hops.length - 1; i >= 0; i--) {
        InetAddress hop = parseAddress(hops[i].strip());
        if (hop == null) {
          break;
        }
        address = hop.getHostAddress();
        if (!isTrusted(hop)) {
          break;
        }
      }
    }
    String proto = last(header.apply("X-Forwarded-Proto"));
    if ("https".equalsIgnoreCase(proto) || "http".equalsIgnoreCase(proto)) {
      scheme = proto.toLowerCase(java.util.Locale.ROOT);
    }
    String forwardedHost = last(header.apply("X-Forwarded-Host"));
    if (forwardedHost != null && HOST.matcher(forwardedHost).matches()) {
      host = forwardedHost;
    }
    return new ClientOrigin(address, scheme, host);
  }

  boolean isTrusted(InetAddress address) {
    for (Cidr cidr : trusted) {
      if (cidr.contains(address)) {
        return true;
      }
    }
    return false;
  }

  private static String validHost(String host) {
    return host != null && HOST.matcher(host).matches() ? host : "localhost";
  }

  private static String last(String list) {
    if (list == null) {
      return null;
    }
    int comma = list.lastIndexOf(',');
    String value = (comma < 0 ? list : list.substring(comma + 1)).strip();
    return value.isEmpty() ? null : value;
  }

  /** Only literal addresses: no name lookups for header values. */
  private static InetAddress parseAddress(String text) {
    String literal =
        text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
    if (!literal.matches("[0-9.]+|[0-9A-Fa-f:.]+")
        || !(literal.contains(".") || literal.contains(":"))) {
      return null;
    }
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      return null;
    }
  }

  /** An address block: {@code 10.0.0.0/8}, {@code fd00::/8}, or one address. */
  record Cidr(byte[] network, int prefix) {
    static Cidr parse(String text) {
      String value = text.strip();
      int slash = value.indexOf('/');
      InetAddress address = parseAddress(slash < 0 ? value : value.substring(0, slash));
      if (address == null) {
        throw new IllegalArgumentException("server.trusted-proxies: '" + text + "' is not a CIDR");
      }
      byte[] bytes = address.getAddress();
      int prefix;
      try {
        prefix = slash < 0 ? bytes.length * 8 : Integer.parseInt(value.substring(slash + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("server.trusted-proxies: bad prefix in '" + text + "'");
      }
      if (prefix < 0 || prefix > bytes.length * 8) {
        throw new IllegalArgumentException("server.trusted-proxies: bad prefix in '" + text + "'");
      }
      return new Cidr(bytes, prefix);
    }

    boolean contains(InetAddress address) {
      byte[] candidate = address.getAddress();
      if (candidate.length != network.length) {
        return false;
      }
      int full = prefix / 8;
      for (int i = 0; i < full; i++) {
        if (candidate[i] != network[i]) {
          return false;
        }
      }
      int rest = prefix % 8;
      if (rest == 0) {
        return true;
      }
      int mask = 0xff << (8 - rest) & 0xff;
      return (candidate[full] & mask) == (network[full] & mask);
    }
  }
}
