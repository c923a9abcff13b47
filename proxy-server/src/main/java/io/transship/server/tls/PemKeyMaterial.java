package io.transship.server.tls;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * A server certificate chain and its private key read from PEM files (RFC 7468). Keys may be PKCS#8
 * ({@code BEGIN PRIVATE KEY}, certbot), PKCS#1 ({@code BEGIN RSA PRIVATE KEY}, cert-manager's
 * default) or SEC1 ({@code BEGIN EC PRIVATE KEY}); RSA or ECDSA. The key is checked against the
 * leaf certificate by signing and verifying, so a renewal caught between writing the two files is
 * refused instead of served.
 *
 * @param key the private key
 * @param chain leaf first, then intermediates
 */
public record PemKeyMaterial(PrivateKey key, List<X509Certificate> chain) {

  public PemKeyMaterial {
    chain = List.copyOf(chain);
  }

  public X509Certificate leaf() {
    return chain.get(0);
  }

  /** Reads and checks both files; the message of the exception says what is wrong. */
  public static PemKeyMaterial load(Path certFile, Path keyFile) {
    String chain;
    String key;
    try {
      chain = Files.readString(certFile, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read certificate chain " + certFile + ": " + why(e), e);
    }
    try {
      key = Files.readString(keyFile, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read key " + keyFile + ": " + why(e), e);
    }
    return parse(chain, certFile.toString(), key, keyFile.toString());
  }

  /** A file error in words ("no such file" rather than the bare path NIO puts in the message). */
  public static String why(IOException e) {
    return switch (e) {
      case java.nio.file.NoSuchFileException n -> "no such file";
      case java.nio.file.AccessDeniedException a -> "permission denied";
      default -> String.valueOf(e.getMessage());
    };
  }

  /**
   * Parses and checks PEM text (e.g. kept in storage); {@code certSource} and {@code keySource}
   * name where it came from in error messages.
   */
  public static PemKeyMaterial parse(
      String chainPem, String certSource, String keyPem, String keySource) {
    List<X509Certificate> chain = new ArrayList<>();
    try (InputStream in =
        new java.io.ByteArrayInputStream(chainPem.getBytes(StandardCharsets.US_ASCII))) {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      factory.generateCertificates(in).forEach(c -> chain.add((X509Certificate) c));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "cannot read certificate chain " + certSource + ": " + e.getMessage(), e);
    }
    if (chain.isEmpty()) {
      throw new IllegalArgumentException(certSource + " holds no PEM certificate");
    }
    PrivateKey key = readKey(keyPem, keySource);
    PemKeyMaterial material = new PemKeyMaterial(key, chain);
    material.checkKeyMatchesLeaf(keySource, certSource);
    return material;
  }

  private static PrivateKey readKey(String keyPem, String keyFile) {
    try (Reader reader = new java.io.StringReader(keyPem);
        PEMParser parser = new PEMParser(reader)) {
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      Object item;
      while ((item = parser.readObject()) != null) {
        if (item instanceof PEMKeyPair pair) {
          return jdkKey(converter.getPrivateKey(pair.getPrivateKeyInfo()));
        }
        if (item instanceof PrivateKeyInfo info) {
          return jdkKey(converter.getPrivateKey(info));
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read key " + keyFile + ": " + e.getMessage(), e);
    }
    throw new IllegalArgumentException(
        keyFile + " holds no unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1)");
  }

  /**
   * The JDK's own key object: with BouncyCastle registered as a provider, EC keys may come back as
   * BouncyCastle's "ECDSA" keys, which TLS engines should not have to know.
   */
  private static PrivateKey jdkKey(PrivateKey key) {
    if (!key.getAlgorithm().equals("ECDSA")) {
      return key;
    }
    try {
      return java.security.KeyFactory.getInstance("EC", "SunEC")
          .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(key.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot convert the EC key: " + e.getMessage(), e);
    }
  }

  private void checkKeyMatchesLeaf(String keyFile, String certFile) {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          case "Ed25519", "EdDSA" -> "Ed25519";
          default ->
              throw new IllegalArgumentException(
                  keyFile + ": unsupported key algorithm " + key.getAlgorithm());
        };
    try {
      byte[] probe = new byte[32];
      new SecureRandom().nextBytes(probe);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(leaf().getPublicKey());
      verifier.update(probe);
      if (!verifier.verify(signature)) {
        throw new IllegalArgumentException(
            "the key in " + keyFile + " does not belong to the first certificate in " + certFile);
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "the key in "
              + keyFile
              + " does not belong to the first certificate in "
              + certFile
              + " ("
              + e.getMessage()
              + ")");
    }
  }

  @Override
  public String toString() {
    return "PemKeyMaterial["
        + leaf().getSubjectX500Principal()
        + ", "
        + chain.size()
        + " certificate(s), "
        + key.getAlgorithm()
        + " key]";
  }
}
