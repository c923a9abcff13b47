package io.transship.server;

import io.micrometer.core.instrument.MeterRegistry;
import io.transship.server.auth.AccessRules;
import io.transship.server.auth.AdminGuard;
import io.transship.server.auth.AuthGate;
import io.transship.server.auth.Authenticator;
import io.transship.server.auth.Tokens;
import io.transship.server.auth.TrustedProxies;
import io.transship.server.auth.UserDirectory;
import io.transship.server.config.EdgeConfig;
import io.transship.server.config.FileWatcher;
import io.transship.server.config.TransshipConfig;
import io.transship.server.http.EdgeOptions;
import io.transship.server.http.ServerTls;
import io.transship.server.routing.RequestRouter;
import io.transship.server.tls.AcmeCertificates;
import io.transship.server.tls.AcmeChallenges;
import io.transship.server.tls.PemKeyMaterial;
import io.transship.storage.ObjectStore;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds the client-facing side from {@link EdgeConfig}: TLS, authentication, admin guard. */
final class EdgeFactory {
  private static final Logger LOG = LoggerFactory.getLogger(EdgeFactory.class);
  private static final Duration HTPASSWD_POLL = Duration.ofSeconds(5);

  private EdgeFactory() {}

  /** The edge and, with {@code tls.acme}, the certificate manager to start once listening. */
  record Edge(EdgeOptions options, AcmeCertificates acme) {}

  static Edge create(
      TransshipConfig config,
      RequestRouter router,
      MeterRegistry registry,
      FileWatcher watcher,
      ObjectStore store) {
    EdgeConfig edge = config.edge();
    ServerTls tls = null;
    AcmeCertificates acme = null;
    AcmeChallenges challenges = null;
    if (edge.tls() != null && edge.tls().acme() != null) {
      if (config.listen() == null) {
        throw new IllegalArgumentException(
            "tls.acme answers HTTP-01 challenges on the plain listener: listen must not be empty"
                + " (the CA connects to port 80)");
      }
      challenges = new AcmeChallenges();
      ServerTls[] holder = new ServerTls[1];
      acme =
          new AcmeCertificates(
              edge.tls().acme(), store, challenges, m -> holder[0].update(m), Clock.systemUTC());
      holder[0] = new ServerTls(acme.initial());
      tls = holder[0];
      LOG.info(
          "TLS on {} with {}: certificate by ACME from {} for {}",
          edge.tls().listen(),
          tls.providerName(),
          edge.tls().acme().directory(),
          edge.tls().acme().domains());
    } else if (edge.tls() != null) {
      EdgeConfig.Tls settings = edge.tls();
      PemKeyMaterial material = PemKeyMaterial.load(settings.certFile(), settings.keyFile());
      ServerTls serverTls = new ServerTls(material);
      watcher.watch(
          List.of(settings.certFile(), settings.keyFile()),
          settings.reloadInterval(),
          () -> serverTls.update(PemKeyMaterial.load(settings.certFile(), settings.keyFile())));
      LOG.info(
          "TLS on {} with {}: {} valid until {}",
          settings.listen(),
          serverTls.providerName(),
          material.leaf().getSubjectX500Principal(),
          material.leaf().getNotAfter().toInstant());
      tls = serverTls;
    }
    AuthGate gate = AuthGate.open();
    EdgeConfig.Auth auth = edge.auth();
    if (auth.enabled()) {
      UserDirectory users = new UserDirectory(auth.users(), auth.htpasswd());
      Authenticator authenticator = new Authenticator(users, auth.cacheTtl(), registry);
      if (auth.htpasswd() != null) {
        watcher.watch(List.of(auth.htpasswd()), HTPASSWD_POLL, authenticator::reloadUsers);
      }
      gate =
          new AuthGate(
              auth,
              authenticator,
              new AccessRules(auth.access()),
              new Tokens(auth.tokenSecret(), auth.tokenTtl(), Clock.systemUTC()),
              router,
              Clock.systemUTC());
      LOG.info(
          "client authentication on: {} users, {} access rules, {} challenge",
          users.size(),
          auth.access().size(),
          auth.challenge());
      if (tls == null && config.listen() != null && edge.trustedProxies().isEmpty()) {
        LOG.warn(
            "client authentication over plain HTTP: passwords and tokens cross the network in"
                + " clear text; configure tls or a TLS-terminating load balancer");
      }
    }
    AdminGuard admin = new AdminGuard(edge.adminToken(), loopback(config.adminListen().host()));
    if (!admin.actionsEnabled()) {
      LOG.warn(
          "admin listener {} is not loopback and admin.token is not set: /warm and /resolve are"
              + " refused",
          config.adminListen());
    }
    return new Edge(
        new EdgeOptions(
            tls == null ? null : edge.tls().listen().toSocketAddress(),
            tls,
            gate,
            new TrustedProxies(edge.trustedProxies()),
            admin,
            challenges),
        acme);
  }

  private static boolean loopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
