package io.transship.server;

import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.transship.server.config.FileWatcher;
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

  private Transship(
      ObjectStore store,
      RegistryService service,
      HttpServer server,
      FileWatcher watcher,
      GracefulShutdown shutdown,
      AutoCloseable acme) {
    this.store = store;
    this.service = service;
    this.server = server;
    this.watcher = watcher;
    this.shutdown = shutdown;
    this.acme = acme;
  }

  /** Starts the proxy; returns once both listeners accept connections. */
  public static Transship start(TransshipConfig config) throws IOException, InterruptedException {
    PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(prometheus);
    new JvmThreadMetrics().bindTo(prometheus);
    ProxyMetrics metrics = new ProxyMetrics(prometheus);
    Path root = config.storage().root().toAbsolutePath().normalize();
    StorageSetup storage = StorageFactory.create(config.storage());
    ObjectStore store = storage.store();
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
            metrics);
    RequestRouter router = new RequestRouter(config.upstreams(), config.defaultUpstream());
    AdminService admin = new AdminService(router, service);
    FileWatcher watcher = new FileWatcher();
    GracefulShutdown shutdown = new GracefulShutdown(config.drainTimeout());
    EdgeFactory.Edge edge;
    try {
      edge = EdgeFactory.create(config, router, prometheus, watcher, store);
    } catch (RuntimeException e) {
      watcher.close();
      service.close();
      store.close();
      throw e;
    }
    HttpServer server =
        HttpServer.start(
            config.listen() == null ? null : config.listen().toSocketAddress(),
            config.adminListen().toSocketAddress(),
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
            edge.options());
    if (edge.acme() != null) {
      edge.acme().start(config.edge().tls().acme().checkInterval());
    }
    LOG.info(
        "transship listening on {}{} (admin {}), storage {}, upstreams {}, default {}",
        config.listen() == null ? "(no plain HTTP)" : config.listen(),
        config.edge().tls() == null ? "" : ", https " + config.edge().tls().listen(),
        config.adminListen(),
        root,
        config.upstreams().keySet(),
        config.defaultUpstream().isEmpty() ? "(none)" : config.defaultUpstream());
    LOG.info("codecs: {}", io.transship.converter.Codecs.describe());
    return new Transship(store, service, server, watcher, shutdown, edge.acme());
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
  }
}
