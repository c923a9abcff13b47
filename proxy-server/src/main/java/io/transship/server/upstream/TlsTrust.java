package io.transship.server.upstream;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Builds the {@link SSLContext} for an upstream: the JDK's trust store, plus an optional PEM bundle
 * of extra CAs, or (only when configured, for local test registries) no verification at all.
 */
final class TlsTrust {
  private TlsTrust() {}

  static SSLContext context(Path extraCaFile, boolean skipVerify) throws IOException {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      TrustManager[] managers;
      if (skipVerify) {
        managers = new TrustManager[] {new TrustEverything()};
      } else if (extraCaFile != null) {
        managers = withExtraCas(extraCaFile);
      } else {
        return SSLContext.getDefault();
      }
      context.init(null, managers, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot set up TLS: " + e.getMessage(), e);
    }
  }

  private static TrustManager[] withExtraCas(Path pem)
      throws IOException, GeneralSecurityException {
    TrustManagerFactory system =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    system.init((KeyStore) null);
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    int n = 0;
    for (TrustManager manager : system.getTrustManagers()) {
      if (manager instanceof X509TrustManager x509) {
        for (X509Certificate ca : x509.getAcceptedIssuers()) {
          store.setCertificateEntry("system-" + n++, ca);
        }
      }
    }
    try (InputStream in = Files.newInputStream(pem)) {
      for (Certificate certificate :
          CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        store.setCertificateEntry("extra-" + n++, certificate);
      }
    }
    TrustManagerFactory combined =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    combined.init(store);
    return combined.getTrustManagers();
  }

  /** Accepts any certificate and any host name: {@code insecure-skip-verify: true}. */
  private static final class TrustEverything extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
