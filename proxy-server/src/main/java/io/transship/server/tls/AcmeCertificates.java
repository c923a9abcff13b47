package io.transship.server.tls;

import io.transship.server.config.EdgeConfig;
import io.transship.storage.ObjectStore;
import io.transship.storage.SmallObjects;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.StringWriter;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.shredzone.acme4j.Account;
import org.shredzone.acme4j.AccountBuilder;
import org.shredzone.acme4j.Authorization;
import org.shredzone.acme4j.Order;
import org.shredzone.acme4j.Session;
import org.shredzone.acme4j.Status;
import org.shredzone.acme4j.challenge.Http01Challenge;
import org.shredzone.acme4j.connector.HttpConnector;
import org.shredzone.acme4j.connector.NetworkSettings;
import org.shredzone.acme4j.exception.AcmeException;
import org.shredzone.acme4j.provider.GenericAcmeProvider;
import org.shredzone.acme4j.util.KeyPairUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Obtains and renews the server certificate over ACME (RFC 8555) with HTTP-01 challenges, and keeps
 * account key, certificate key and chain in the object store: a restart, or another replica sharing
 * S3 storage, uses the stored certificate instead of asking the CA again, and picks up a renewal
 * another replica made.
 *
 * <p>Until a certificate exists, a temporary self-signed one serves. A check runs at start and then
 * every {@code checkEvery}: a stored certificate newer than the one serving is loaded; one expiring
 * within {@code renew-before} is renewed. Failures are logged and retried at the next check; the
 * serving certificate stays.
 */
public final class AcmeCertificates implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AcmeCertificates.class);
  private static final Duration VALIDATION_TIMEOUT = Duration.ofMinutes(2);

  static {
    // acme4j makes keys and CSRs with BouncyCastle by provider name; last in line, so the JDK's
    // providers still serve everything else
    if (java.security.Security.getProvider("BC") == null) {
      java.security.Security.addProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider());
    }
  }

  private final EdgeConfig.Acme settings;
  private final SmallObjects store;
  private final AcmeChallenges challenges;
  private final Consumer<PemKeyMaterial> install;
  private final Clock clock;
  private final String prefix;
  private volatile PemKeyMaterial serving;
  private volatile boolean temporary;
  private Thread loop;

  /**
   * @param install receives every certificate to serve from now on
   */
  public AcmeCertificates(
      EdgeConfig.Acme settings,
      ObjectStore store,
      AcmeChallenges challenges,
      Consumer<PemKeyMaterial> install,
      Clock clock) {
    this.settings = settings;
    this.store = new SmallObjects(store, 1 << 20);
    this.challenges = challenges;
    this.install = install;
    this.clock = clock;
    this.prefix = "acme/" + identity(settings) + "/";
  }

  /** The certificate to start with: the stored one, else a temporary self-signed one. */
  public PemKeyMaterial initial() {
    Optional<PemKeyMaterial> stored = stored();
    if (stored.isPresent()) {
      serving = stored.get();
      LOG.info(
          "ACME certificate for {} loaded from storage, valid until {}",
          settings.domains(),
          serving.leaf().getNotAfter().toInstant());
    } else {
      serving = SelfSigned.forNames(settings.domains());
      temporary = true;
      LOG.info(
          "no ACME certificate for {} in storage yet: serving a temporary one", settings.domains());
    }
    return serving;
  }

  /** Starts the check loop on a virtual thread (after the listeners are up: HTTP-01 needs them). */
  public void start(Duration checkEvery) {
    loop =
        Thread.ofVirtual()
            .name("transship-acme")
            .start(() -> {
              while (!Thread.currentThread().isInterrupted()) {
                check();
                try {
                  Thread.sleep(checkEvery);
                } catch (InterruptedException e) {
                  return;
                }
              }
            });
  }

  /** One check: adopt a newer stored certificate, or obtain one when due. */
  void check() {
    try {
      Optional<PemKeyMaterial> stored = stored();
      if (stored.isPresent()
          && (temporary || stored.get().leaf().getNotAfter().after(serving.leaf().getNotAfter()))) {
        adopt(stored.get(), "loaded from storage");
      }
      Instant expires = serving.leaf().getNotAfter().toInstant();
      if (temporary || expires.minus(settings.renewBefore()).isBefore(clock.instant())) {
        adopt(obtain(), "issued by " + settings.directory().getHost());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | AcmeException | RuntimeException e) {
      LOG.warn(
          "ACME: could not obtain a certificate for {} (retrying at the next check): {}",
          settings.domains(),
          e.getMessage());
    }
  }

  private void adopt(PemKeyMaterial material, String how) {
    install.accept(material);
    serving = material;
    temporary = false;
    LOG.info(
        "ACME certificate for {} {}, valid until {}",
        settings.domains(),
        how,
        material.leaf().getNotAfter().toInstant());
  }

  private Optional<PemKeyMaterial> stored() {
    try {
      Optional<String> chain = store.getText(prefix + "chain.pem");
      Optional<String> key = store.getText(prefix + "key.pem");
      if (chain.isEmpty() || key.isEmpty()) {
        return Optional.empty();
      }
      return Optional.of(
          PemKeyMaterial.parse(chain.get(), prefix + "chain.pem", key.get(), prefix + "key.pem"));
    } catch (IOException | IllegalArgumentException e) {
      LOG.warn("ACME: the stored certificate cannot be used: {}", e.getMessage());
      return Optional.empty();
    }
  }

  private PemKeyMaterial obtain() throws IOException, AcmeException, InterruptedException {
    Session session = new Session(settings.directory(), new Provider(trust()));
    KeyPair accountKey = keyPair("account.pem");
    AccountBuilder builder = new AccountBuilder().agreeToTermsOfService().useKeyPair(accountKey);
    if (settings.email() != null) {
      builder.addEmail(settings.email());
    }
    Account account = builder.create(session);
    Order order = account.newOrder().domains(settings.domains()).create();
    for (Authorization authorization : order.getAuthorizations()) {
      if (authorization.getStatus() == Status.VALID) {
        continue;
      }
      Http01Challenge challenge =
          authorization
              .findChallenge(Http01Challenge.class)
              .orElseThrow(() -> new AcmeException("the CA offers no http-01 challenge"));
      challenges.put(challenge.getToken(), challenge.getAuthorization());
      try {
        challenge.trigger();
        Status status = authorization.waitForCompletion(VALIDATION_TIMEOUT);
        if (status != Status.VALID) {
          throw new AcmeException(
              "validation of "
                  + authorization.getIdentifier().getDomain()
                  + " ended "
                  + status
                  + challenge.getError().map(p -> ": " + p.getDetail().orElse("")).orElse(""));
        }
      } finally {
        challenges.remove(challenge.getToken());
      }
    }
    order.waitUntilReady(VALIDATION_TIMEOUT);
    KeyPair domainKey = KeyPairUtils.createECKeyPair("secp256r1");
    order.execute(domainKey);
    Status status = order.waitForCompletion(VALIDATION_TIMEOUT);
    if (status != Status.VALID) {
      throw new AcmeException("the order ended " + status);
    }
    StringWriter chain = new StringWriter();
    order.getCertificate().writeCertificate(chain);
    String keyPem = SelfSigned.pem(domainKey.getPrivate());
    PemKeyMaterial material =
        PemKeyMaterial.parse(chain.toString(), "the ACME chain", keyPem, "the new key");
    store.putText(prefix + "key.pem", keyPem);
    store.putText(prefix + "chain.pem", chain.toString());
    return material;
  }

  /** The stored key pair under {@code name}, created and stored on first use. */
  private KeyPair keyPair(String name) throws IOException {
    Optional<String> pem = store.getText(prefix + name);
    if (pem.isPresent()) {
      return KeyPairUtils.readKeyPair(new StringReader(pem.get()));
    }
    KeyPair created = KeyPairUtils.createECKeyPair("secp256r1");
    StringWriter out = new StringWriter();
    KeyPairUtils.writeKeyPair(created, out);
    store.putText(prefix + name, out.toString());
    return created;
  }

  /** The JDK's trust plus {@code ca-file}, for the ACME server's own HTTPS; null: the JDK's. */
  private SSLContext trust() throws IOException {
    if (settings.caFile() == null) {
      return null;
    }
    try (InputStream in = Files.newInputStream(settings.caFile())) {
      KeyStore keys = KeyStore.getInstance(KeyStore.getDefaultType());
      keys.load(null, null);
      TrustManagerFactory jdk =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      jdk.init((KeyStore) null);
      int i = 0;
      for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        keys.setCertificateEntry("extra-" + i++, c);
      }
      for (var manager : jdk.getTrustManagers()) {
        if (manager instanceof javax.net.ssl.X509TrustManager x509) {
          for (X509Certificate c : x509.getAcceptedIssuers()) {
            keys.setCertificateEntry("jdk-" + i++, c);
          }
        }
      }
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(keys);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, factory.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot read tls.acme.ca-file " + settings.caFile() + ": " + e, e);
    }
  }

  /** Storage folder per directory and domain list, so changing either starts afresh. */
  private static String identity(EdgeConfig.Acme settings) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(settings.directory().toString().getBytes(StandardCharsets.UTF_8));
      for (String domain : settings.domains()) {
        sha.update((byte) 0);
        sha.update(domain.getBytes(StandardCharsets.UTF_8));
      }
      return HexFormat.of().formatHex(sha.digest(), 0, 12);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    if (loop != null) {
      loop.interrupt();
    }
  }

  /** acme4j's generic provider, with an extra trust anchor when configured. */
  private static final class Provider extends GenericAcmeProvider {
    private final SSLContext trust;

    Provider(SSLContext trust) {
      this.trust = trust;
    }

    @Override
    protected HttpConnector createHttpConnector(NetworkSettings settings) {
      return new HttpConnector(settings) {
        @Override
        public HttpClient.Builder createClientBuilder() {
          HttpClient.Builder builder = super.createClientBuilder();
          return trust == null ? builder : builder.sslContext(trust);
        }
      };
    }
  }
}
