package io.transship.server;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.transship.server.cli.Versions;
import io.transship.server.config.FileWatcher;
import io.transship.server.config.HostPort;
import io.transship.server.config.TransshipConfig;
import io.transship.server.http.AdminEndpoints;
import io.transship.server.http.HttpServer;
import io.transship.server.routing.RequestRouter;
import io.transship.server.service.AdminService;
import io.transship.server.service.ProxyMetrics;
import io.transship.server.service.RegistryService;
import io.transship.server.service.StorageSetup;
import io.transship.server.upstream.RegistryClients;
import io.transship.storage.ObjectStore;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running proxy: every part wired by hand from a {@link TransshipConfig}. */
public final class Transship implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Transship.class);

  private final ObjectStore store;
  private final RegistryService service;
  private final HttpServer server;
  private final FileWatcher watcher;
  private final GracefulShutdown shutdown;
  private final AutoCloseable acme;
  private final StorageRoot root;
  private final JvmGcMetrics gc;

  private Transship(
      ObjectStore store,
      RegistryService service,
      HttpServer server,
      FileWatcher watcher,
      GracefulShutdown shutdown,
      AutoCloseable acme,
      StorageRoot root,
      JvmGcMetrics gc) {
    this.store = store;
    this.service = service;
    this.server = server;
    this.watcher = watcher;
    this.shutdown = shutdown;
    this.acme = acme;
    this.root = root;
    this.gc = gc;
  }

  /**
   * Starts the proxy; returns once both listeners accept connections. A start that can't go on
   * (listen address, storage root, lock) throws a {@link StartupException} with a one-line reason.
   */
  public static Transship start(TransshipConfig config) throws IOException, InterruptedException {
    InetSocketAddress listen =
        config.listen() == null ? null : address(config.listen(), "listen"); // "": TLS only
    InetSocketAddress adminListen = address(config.adminListen(), "admin.listen");
    Path root = config.storage().root().toAbsolutePath().normalize();
    StorageRoot claimed = StorageRoot.claim(root);
    java.util.Deque<AutoCloseable> opened = new java.util.ArrayDeque<>();
    try {
      return start(config, listen, adminListen, root, claimed, opened);
    } catch (IOException | InterruptedException | RuntimeException e) {
      for (AutoCloseable resource : opened) {
        try {
          resource.close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      claimed.close();
      if (e instanceof BindException bind) {
        throw new StartupException(bindAdvice(bind.getMessage()), 1);
      }
      throw e;
    }
  }

  private static Transship start(
      TransshipConfig config,
      InetSocketAddress listen,
      InetSocketAddress adminListen,
      Path root,
      StorageRoot claimed,
      java.util.Deque<AutoCloseable> opened)
      throws IOException, InterruptedException {
    PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(prometheus);
    new JvmThreadMetrics().bindTo(prometheus);
    new ClassLoaderMetrics().bindTo(prometheus);
    new ProcessorMetrics().bindTo(prometheus);
    new UptimeMetrics().bindTo(prometheus);
    new FileDescriptorMetrics().bindTo(prometheus);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(prometheus);
    opened.push(gc);
    ProxyMetrics metrics = new ProxyMetrics(prometheus);
    metrics.buildInfo(Versions.version());
    config.upstreams().keySet().forEach(metrics::upstream);
    StorageSetup storage = StorageFactory.create(config.storage(), metrics);
    ObjectStore store = storage.store();
    opened.push(store);
    metrics.gauge(
        "transship.storage.available",
        "1 while storage is usable, 0 while transship serves pass-through",
        () -> storage.problem().get().isEmpty() ? 1 : 0);
    RegistryClients clients = new RegistryClients(config.upstreams(), metrics, Clock.systemUTC());
    RegistryService service =
        new RegistryService(
            clients::forAlias,
            storage,
            Clock.systemUTC(),
            config.tagTtl(),
            config.conversion(),
            metrics,
            config.maxBlobBytes(),
            config.edge().auth().enabled());
    opened.push(service);
    RequestRouter router = new RequestRouter(config.upstreams(), config.defaultUpstream());
    AdminService admin = new AdminService(router, service);
    FileWatcher watcher = new FileWatcher();
    GracefulShutdown shutdown = new GracefulShutdown(config.drainTimeout());
    EdgeFactory.Edge edge;
    try {
      edge = EdgeFactory.create(config, router, prometheus, watcher, store);
    } catch (RuntimeException e) {
      watcher.close();
      throw e;
    }
    HttpServer server =
        HttpServer.start(
            listen,
            adminListen,
            router,
            service,
            new AdminEndpoints() {
              @Override
              public String scrape() {
                return prometheus.scrape();
              }

              @Override
              public String notReadyReason() {
                String draining = shutdown.notReadyReason();
                return draining.isEmpty() ? storageProblem(root) : draining;
              }

              @Override
              public String degradedReason() {
                String problem = storage.problem().get();
                return problem.isEmpty()
                    ? ""
                    : "storage unavailable (" + problem + "): serving pass-through";
              }

              @Override
              public String resolve(String image, String format) {
                return admin.resolve(image, format);
              }

              @Override
              public void warm(
                  String image, String format, List<String> platforms, Consumer<String> progress) {
                admin.warm(image, format, platforms, progress);
              }
            },
            edge.options(),
            config.connections());
    if (edge.acme() != null) {
      edge.acme().start(config.edge().tls().acme().checkInterval());
    }
    LOG.info(
        StartLine.of(config, root, server.port(), server.adminPort())
            + (server.tlsPort() < 0 ? "" : ", https on " + server.tlsPort()));
    LOG.info("codecs: {}", io.transship.converter.Codecs.describe());
    return new Transship(store, service, server, watcher, shutdown, edge.acme(), claimed, gc);
  }

  /** The socket address of a listen setting; an unresolvable host is a one-line error. */
  private static InetSocketAddress address(HostPort hostPort, String key) {
    InetSocketAddress address = hostPort.toSocketAddress();
    if (address.isUnresolved()) {
      throw new StartupException(
          key
              + " "
              + hostPort
              + ": cannot resolve host '"
              + hostPort.host()
              + "'; use an IP address (0.0.0.0 for all, [::] for IPv6) or a name this machine"
              + " resolves ("
              + key
              + ": or "
              + envOf(key)
              + ")",
          1);
    }
    return address;
  }

  /** A bind failure, with what to change. */
  static String bindAdvice(String failure) {
    String key = failure.startsWith("admin.listen") ? "admin.listen" : "listen";
    String fix = "set " + key + ": in the config or " + envOf(key);
    String lower = failure.toLowerCase(java.util.Locale.ROOT);
    if (lower.contains("address already in use")) {
      return failure
          + " — another process (a local registry?) has this port; "
          + fix
          + " to another port";
    }
    if (lower.contains("permission denied")) {
      return failure + " — ports below 1024 need privileges; " + fix + " to a port >= 1024";
    }
    if (lower.contains("cannot assign requested address")) {
      return failure + " — that address is not on this machine; " + fix;
    }
    return failure + "; " + fix;
  }

  private static String envOf(String key) {
    return key.equals("listen") ? "TRANSSHIP_LISTEN" : "TRANSSHIP_ADMIN__LISTEN";
  }

  private static String storageProblem(Path root) {
    return Files.isDirectory(root) && Files.isWritable(root)
        ? ""
        : "storage root " + root + " is not a writable directory";
  }

  public int port() {
    return server.port();
  }

  public int adminPort() {
    return server.adminPort();
  }

  /** The HTTPS port; -1 without TLS. */
  public int tlsPort() {
    return server.tlsPort();
  }

  public RegistryService service() {
    return service;
  }

  /**
   * Graceful shutdown (SIGTERM): readyz fails, listeners close, in-flight requests and conversions
   * get up to {@code server.drain-timeout}; then {@link #close()}.
   */
  public void shutdown() throws IOException, InterruptedException {
    try {
      shutdown.drain(server, service);
    } finally {
      close();
    }
  }

  @Override
  public void close() throws IOException {
    try {
      if (acme != null) {
        try {
          acme.close();
        } catch (Exception e) {
          LOG.debug("stopping ACME renewals failed", e);
        }
      }
      watcher.close();
      server.close();
      service.close();
      store.close();
    } finally {
      gc.close();
      root.close();
    }
  }
}
