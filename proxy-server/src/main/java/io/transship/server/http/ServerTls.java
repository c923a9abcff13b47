package io.transship.server.http;

import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import io.transship.server.tls.PemKeyMaterial;
import java.security.cert.X509Certificate;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of TLS: TLS 1.3 and 1.2 only, the HTTP/2 cipher list (RFC 7540 section 9.2.2:
 * ECDHE with AEAD), ALPN offering {@code h2} then {@code http/1.1}. BoringSSL (netty-tcnative) when
 * it loads, else the JDK's provider. The current context is swapped by {@link
 * #update(PemKeyMaterial)}; each new connection takes the context current when it is accepted, so
 * open connections keep the certificate they negotiated.
 */
public final class ServerTls {
  private static final Logger LOG = LoggerFactory.getLogger(ServerTls.class);

  private final SslProvider provider;
  private final AtomicReference<SslContext> current = new AtomicReference<>();

  public ServerTls(PemKeyMaterial material) {
    this.provider = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    current.set(build(material));
  }

  /** Which TLS implementation serves, for the start-up log line. */
  public String providerName() {
    return provider == SslProvider.OPENSSL
        ? "OpenSSL (" + OpenSsl.versionString() + ", netty-tcnative)"
        : "JDK (netty-tcnative unavailable: " + unavailabilityCause() + ")";
  }

  private static String unavailabilityCause() {
    Throwable cause = OpenSsl.unavailabilityCause();
    return cause == null ? "unknown" : String.valueOf(cause.getMessage());
  }

  /** Replaces the context for connections accepted from now on. */
  public void update(PemKeyMaterial material) {
    current.set(build(material));
    LOG.info(
        "TLS certificate reloaded: {} valid until {}",
        material.leaf().getSubjectX500Principal(),
        material.leaf().getNotAfter().toInstant());
  }

  SslContext context() {
    return current.get();
  }

  private SslContext build(PemKeyMaterial material) {
    try {
      return SslContextBuilder.forServer(
              material.key(), material.chain().toArray(new X509Certificate[0]))
          .sslProvider(provider)
          .protocols("TLSv1.3", "TLSv1.2")
          .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
          .applicationProtocolConfig(
              new ApplicationProtocolConfig(
                  ApplicationProtocolConfig.Protocol.ALPN,
                  ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                  ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                  ApplicationProtocolNames.HTTP_2,
                  ApplicationProtocolNames.HTTP_1_1))
          .build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot build a TLS context: " + e.getMessage(), e);
    }
  }
}
