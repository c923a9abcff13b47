package io.transship.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrustedProxiesTest {
  final TrustedProxies proxies = new TrustedProxies(List.of("10.0.0.0/8", "fd00::/8"));
  final Map<String, String> headers =
      Map.of(
          "Host", "10.1.2.3:5000",
          "X-Forwarded-For", "198.51.100.9, 203.0.113.7, 10.4.4.4",
          "X-Forwarded-Proto", "https",
          "X-Forwarded-Host", "registry.example.com");

  @Test
  void fromATrustedProxyTheFirstUntrustedHopIsTheClient() throws Exception {
    ClientOrigin origin = proxies.resolve(InetAddress.getByName("10.9.9.9"), false, headers::get);
    assertThat(origin.address()).isEqualTo("203.0.113.7");
    assertThat(origin.baseUrl()).isEqualTo("https://registry.example.com");
  }

  @Test
  void fromAnyoneElseTheHeadersAreIgnored() throws Exception {
    ClientOrigin origin = proxies.resolve(InetAddress.getByName("192.0.2.1"), false, headers::get);
    assertThat(origin.address()).isEqualTo("192.0.2.1");
    assertThat(origin.baseUrl()).isEqualTo("http://10.1.2.3:5000");
  }

  @Test
  void ipv6BlocksAndBadHostsAreHandled() throws Exception {
    Map<String, String> evil = Map.of("Host", "x\"/><script>", "X-Forwarded-Host", "a b");
    ClientOrigin origin = proxies.resolve(InetAddress.getByName("fd12::1"), true, evil::get);
    assertThat(origin.baseUrl()).isEqualTo("https://localhost");
    assertThatThrownBy(() -> new TrustedProxies(List.of("10.0.0.0/33")))
        .hasMessageContaining("bad prefix");
    assertThatThrownBy(() -> new TrustedProxies(List.of("example.com")))
        .hasMessageContaining("not a CIDR");
  }
}
