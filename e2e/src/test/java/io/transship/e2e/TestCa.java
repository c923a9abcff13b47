package io.transship.e2e;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A test certificate authority made with BouncyCastle: a root, an intermediate, and server
 * certificates for {@code localhost} / {@code 127.0.0.1} / {@code ::1} written as PEM (chain = leaf
 * + intermediate), with RSA or EC keys in PKCS#8 or traditional encoding.
 */
public final class TestCa {
  private static final AtomicLong SERIAL = new AtomicLong(System.nanoTime());

  /** Key algorithm and PEM encoding of a server key. */
  public enum KeyKind {
    RSA_PKCS1,
    RSA_PKCS8,
    EC_SEC1,
    EC_PKCS8
  }

  private final KeyPair rootKey;
  private final X509Certificate root;
  private final KeyPair intermediateKey;
  private final X509Certificate intermediate;

  public TestCa() {
    try {
      rootKey = ec();
      root =
          sign(
              new X500Name("CN=transship test root"),
              rootKey,
              "CN=transship test root",
              rootKey,
              true,
              Duration.ofDays(2),
              new String[0]);
      intermediateKey = ec();
      intermediate =
          sign(
              new X500Name("CN=transship test root"),
              rootKey,
              "CN=transship test intermediate",
              intermediateKey,
              true,
              Duration.ofDays(2),
              new String[0]);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public X509Certificate root() {
    return root;
  }

  /** Writes the root certificate as PEM. */
  public Path writeRoot(Path file) throws IOException {
    Files.writeString(file, pem(root), StandardCharsets.US_ASCII);
    return file;
  }

  /**
   * Issues a server certificate with the given common name (so tests can tell certificates apart)
   * and writes chain and key; files are replaced atomically.
   *
   * @return the leaf certificate
   */
  public X509Certificate issue(String commonName, KeyKind kind, Path certFile, Path keyFile)
      throws IOException {
    try {
      KeyPair key =
          switch (kind) {
            case RSA_PKCS1, RSA_PKCS8 -> rsa();
            case EC_SEC1, EC_PKCS8 -> ec();
          };
      X509Certificate leaf =
          sign(
              new X500Name("CN=transship test intermediate"),
              intermediateKey,
              "CN=" + commonName,
              key,
              false,
              Duration.ofDays(1),
              new String[] {"localhost", "127.0.0.1", "::1"});
      String keyPem =
          switch (kind) {
            case RSA_PKCS8, EC_PKCS8 -> pem(new JcaPKCS8Generator(key.getPrivate(), null));
            case EC_SEC1 -> sec1(key);
            case RSA_PKCS1 -> pem(key.getPrivate());
          };
      replace(keyFile, keyPem);
      replace(certFile, pem(leaf) + pem(intermediate));
      return leaf;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** An SSLContext trusting only this authority's root. */
  public SSLContext clientContext() {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("root", root);
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, factory.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void replace(Path file, String content) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, content, StandardCharsets.US_ASCII);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static KeyPair ec() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
  }

  private static KeyPair rsa() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    return generator.generateKeyPair();
  }

  private static X509Certificate sign(
      X500Name issuer,
      KeyPair issuerKey,
      String subject,
      KeyPair subjectKey,
      boolean ca,
      Duration validity,
      String[] names)
      throws GeneralSecurityException, IOException {
    Instant now = Instant.now();
    JcaX509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            issuer,
            BigInteger.valueOf(SERIAL.incrementAndGet()),
            Date.from(now.minus(Duration.ofHours(1))),
            Date.from(now.plus(validity)),
            new X500Name(subject),
            subjectKey.getPublic());
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
    builder.addExtension(
        Extension.keyUsage,
        true,
        new KeyUsage(
            ca
                ? KeyUsage.keyCertSign | KeyUsage.cRLSign
                : KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
    if (names.length > 0) {
      GeneralName[] alt = new GeneralName[names.length];
      for (int i = 0; i < names.length; i++) {
        boolean ip = Character.isDigit(names[i].charAt(0)) || names[i].contains(":");
        alt[i] = new GeneralName(ip ? GeneralName.iPAddress : GeneralName.dNSName, names[i]);
      }
      builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(alt));
    }
    try {
      ContentSigner signer =
          new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey.getPrivate());
      return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
    } catch (org.bouncycastle.operator.OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  /** SEC1 with the named curve and public key included, as openssl and Go write it. */
  private static String sec1(KeyPair key) throws IOException {
    org.bouncycastle.asn1.pkcs.PrivateKeyInfo info =
        org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(key.getPrivate().getEncoded());
    org.bouncycastle.asn1.sec.ECPrivateKey inner =
        org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey());
    org.bouncycastle.asn1.sec.ECPrivateKey full =
        new org.bouncycastle.asn1.sec.ECPrivateKey(
            256,
            inner.getKey(),
            org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(
                    key.getPublic().getEncoded())
                .getPublicKeyData(),
            info.getPrivateKeyAlgorithm().getParameters());
    return pem(new org.bouncycastle.util.io.pem.PemObject("EC PRIVATE KEY", full.getEncoded()));
  }

  private static String pem(Object object) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(object);
    }
    return out.toString();
  }
}
