package io.transship.server;

import io.transship.server.http.HttpServer;
import io.transship.server.service.RegistryService;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What SIGTERM does (Kubernetes, ECS and systemd all send it, then wait a grace period before
 * SIGKILL): {@code /readyz} fails at once so that load balancers stop sending new clients, the
 * registry listeners stop accepting, requests in flight (a blob download to a slow node, a warm)
 * and layer conversions get up to {@code server.drain-timeout} to finish, and every step is logged.
 * Whatever still runs at the deadline is cut when the proxy closes.
 */
final class GracefulShutdown {
  private static final Logger LOG = LoggerFactory.getLogger(GracefulShutdown.class);

  private final AtomicBoolean draining = new AtomicBoolean();
  private final Duration timeout;

  GracefulShutdown(Duration timeout) {
    this.timeout = timeout;
  }

  /** Empty while serving; the {@code /readyz} reason once draining began. */
  String notReadyReason() {
    return draining.get() ? "shutting down: draining in-flight requests" : "";
  }

  /** Drains {@code server} and {@code service}; returns once idle or at the deadline. */
  void drain(HttpServer server, RegistryService service) throws InterruptedException {
    if (!draining.compareAndSet(false, true)) {
      return;
    }
    long start = System.nanoTime();
    long deadline = start + timeout.toNanos();
    server.stopAccepting();
    LOG.info(
        "shutdown: readyz now fails, listeners closed; waiting up to {} for {} request(s) in"
            + " flight on {} connection(s)",
        timeout,
        server.inFlight(),
        server.connections());
    int requests = server.awaitIdle(deadline);
    int conversions =
        service.awaitConversions(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    long ms = (System.nanoTime() - start) / 1_000_000;
    if (requests == 0 && conversions == 0) {
      LOG.info("shutdown: drained in {} ms; closing", ms);
    } else {
      LOG.warn(
          "shutdown: drain timeout {} reached after {} ms; cutting {} request(s) and {}"
              + " conversion(s)",
          timeout,
          ms,
          requests,
          conversions);
    }
  }
}
