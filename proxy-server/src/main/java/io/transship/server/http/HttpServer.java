package io.transship.server.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.transship.server.config.ServerLimits;
import io.transship.server.routing.RequestRouter;
import io.transship.server.service.RegistryService;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Binds the registry listeners (plain HTTP, HTTPS, or both) and the admin listener on one Netty
 * event-loop group (epoll when available). Request work runs on virtual threads.
 *
 * <p>Every listener starts with the same guard: the connection count ({@link ConnectionLimiter}),
 * the idle timeout, and, around the HTTP/1.1 codec with its request-line and header bounds, the
 * request-header deadline ({@link HeaderTimeout}). {@link PortGuard} answers a client that picked
 * the wrong scheme with a 400; on the HTTPS port it installs TLS with the current certificate, and
 * {@link AlpnSetup} then picks HTTP/2 or HTTP/1.1. On HTTP/1.1, {@link FlowControlHandler} keeps
 * pipelined requests in order.
 */
public final class HttpServer implements AutoCloseable {
  private final EventLoopGroup group;
  private final InFlight workers = new InFlight(Executors.newVirtualThreadPerTaskExecutor());
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final Channel registryChannel;
  private final Channel tlsChannel;
  private final Channel adminChannel;
  private final RequestRouter router;
  private final RegistryService service;
  private final EdgeOptions edge;
  private final ServerLimits limits;
  private final ConnectionEvents registryEvents;

  private HttpServer(
      InetSocketAddress listen,
      InetSocketAddress admin,
      RequestRouter router,
      RegistryService service,
      AdminEndpoints endpoints,
      EdgeOptions edge,
      ServerLimits limits)
      throws InterruptedException, BindException {
    this.router = router;
    this.service = service;
    this.edge = edge;
    this.limits = limits;
    this.registryEvents = new ConnectionEvents(service.metrics().registry(), "registry");
    ConnectionEvents adminEvents = new ConnectionEvents(service.metrics().registry(), "admin");
    // one count for both registry listeners: they serve the same clients
    ConnectionLimiter registryLimiter = limiter(limits, registryEvents);
    ConnectionLimiter adminLimiter = limiter(limits, adminEvents);
    boolean epoll = Epoll.isAvailable();
    this.group =
        new MultiThreadIoEventLoopGroup(
            epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    Class<? extends io.netty.channel.ServerChannel> channelType =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    this.registryChannel =
        listen == null
            ? null
            : bound(
                registryListener(
                        channelType,
                        pipeline -> {
                          guard(pipeline, registryLimiter, limits);
                          pipeline.addLast(PortGuard.plain());
                          addHttp1(pipeline, false);
                        })
                    .bind(listen),
                listen,
                "listen");
    this.tlsChannel =
        edge.tlsListen() == null
            ? null
            : bound(
                registryListener(
                        channelType,
                        pipeline -> {
                          guard(pipeline, registryLimiter, limits);
                          pipeline.addLast(
                              PortGuard.https(
                                  edge.tls(),
                                  () ->
                                      pipeline.addLast(
                                          new AlpnSetup(
                                              p -> addHttp1(p, true),
                                              () -> registryHandler(true)))));
                        })
                    .bind(edge.tlsListen()),
                edge.tlsListen(),
                "tls.listen");
    ChannelFuture adminBind =
        new ServerBootstrap()
            .group(group)
            .channel(channelType)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ChannelPipeline pipeline = ch.pipeline();
                    guard(pipeline, adminLimiter, limits);
                    codec(pipeline, adminEvents);
                    pipeline
                        .addLast(new HttpObjectAggregator(64 * 1024))
                        .addLast(new AdminHandler(endpoints, workers, edge.admin()));
                  }
                })
            .bind(admin);
    this.adminChannel = bound(adminBind, admin, "admin.listen");
  }

  /**
   * Waits for a bind. A failure becomes a {@link BindException} whose message names the listener
   * (its config key), the address and the reason — {@code listen 0.0.0.0:5000: Address already in
   * use} instead of Netty's {@code bind(..) failed with error(-98)} — after releasing what was
   * already bound.
   */
  private Channel bound(ChannelFuture bind, InetSocketAddress address, String key)
      throws InterruptedException, BindException {
    bind.await();
    if (bind.isSuccess()) {
      return bind.channel();
    }
    Throwable cause = bind.cause();
    String reason =
        cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    int colon = reason.lastIndexOf(": ");
    if (reason.startsWith("bind(") && colon > 0) {
      reason = reason.substring(colon + 2); // "bind(..) failed with error(-98): Address..."
    }
    for (Channel open : new Channel[] {registryChannel, tlsChannel}) {
      if (open != null) {
        open.close().syncUninterruptibly();
      }
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    throw new BindException(
        key + " " + address.getHostString() + ":" + address.getPort() + ": " + reason);
  }

  /** Binds the plain and admin listeners, open and with the default limits. */
  public static HttpServer start(
      InetSocketAddress listen,
      InetSocketAddress admin,
      RequestRouter router,
      RegistryService service,
      AdminEndpoints endpoints)
      throws InterruptedException, BindException {
    return start(listen, admin, router, service, endpoints, EdgeOptions.open());
  }

  /** Like the full {@link #start}, with the default connection limits. */
  public static HttpServer start(
      InetSocketAddress listen,
      InetSocketAddress admin,
      RequestRouter router,
      RegistryService service,
      AdminEndpoints endpoints,
      EdgeOptions edge)
      throws InterruptedException, BindException {
    return start(listen, admin, router, service, endpoints, edge, ServerLimits.defaults());
  }

  /** Like the full {@link #start}, without TLS or client authentication. */
  public static HttpServer start(
      InetSocketAddress listen,
      InetSocketAddress admin,
      RequestRouter router,
      RegistryService service,
      AdminEndpoints endpoints,
      ServerLimits limits)
      throws InterruptedException, BindException {
    return start(listen, admin, router, service, endpoints, EdgeOptions.open(), limits);
  }

  /**
   * Binds the plain listener (unless {@code listen} is null), the TLS listener (when {@code edge}
   * names one) and the admin listener; returns once they accept connections.
   */
  public static HttpServer start(
      InetSocketAddress listen,
      InetSocketAddress admin,
      RequestRouter router,
      RegistryService service,
      AdminEndpoints endpoints,
      EdgeOptions edge,
      ServerLimits limits)
      throws InterruptedException, BindException {
    return new HttpServer(listen, admin, router, service, endpoints, edge, limits);
  }

  /**
   * A registry listener (plain or TLS): socket options for bulk transfers, every connection tracked
   * for the drain, and {@code pipeline} building the rest of each connection's pipeline.
   */
  private ServerBootstrap registryListener(
      Class<? extends io.netty.channel.ServerChannel> channelType,
      java.util.function.Consumer<ChannelPipeline> pipeline) {
    return new ServerBootstrap()
        .group(group)
        .channel(channelType)
        .option(ChannelOption.SO_BACKLOG, 1024)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(
            ChannelOption.WRITE_BUFFER_WATER_MARK,
            new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
        .childHandler(
            new ChannelInitializer<SocketChannel>() {
              @Override
              protected void initChannel(SocketChannel ch) {
                connections.add(ch);
                pipeline.accept(ch.pipeline());
              }
            });
  }

  private static ConnectionLimiter limiter(ServerLimits limits, ConnectionEvents events) {
    return new ConnectionLimiter(
        limits.maxConnections(), limits.maxConnectionsPerAddress(), events);
  }

  /** What every listener has first: the connection count and the idle timeout. */
  private static void guard(
      ChannelPipeline pipeline, ConnectionLimiter limiter, ServerLimits limits) {
    pipeline
        .addLast("limit", limiter)
        .addLast(new IdleStateHandler(0, 0, limits.idleTimeout().toMillis(), TimeUnit.MILLISECONDS))
        .addLast(new IdleCloser());
  }

  /**
   * The HTTP/1.1 codec with the request-line and header-size bounds, and the request-header
   * deadline around it.
   */
  private void codec(ChannelPipeline pipeline, ConnectionEvents events) {
    pipeline.addLast(
        "http", new HttpServerCodec(limits.maxRequestLine(), limits.maxHeaderBytes(), 64 * 1024));
    HeaderTimeout.install(pipeline, "http", limits.headerTimeout(), events);
  }

  /** The HTTP/1.1 codec and registry handler, behind TLS or not. */
  private void addHttp1(ChannelPipeline pipeline, boolean tls) {
    codec(pipeline, registryEvents);
    pipeline
        // one decoded message per read: with auto-read off while a request is served, pipelined
        // requests the codec already decoded wait their turn
        .addLast(new FlowControlHandler())
        .addLast(new ChunkedWriteHandler())
        .addLast(registryHandler(tls));
  }

  private RegistryHandler registryHandler(boolean tls) {
    return new RegistryHandler(
        router, service, service.metrics(), workers, edge.gate(), edge.proxies(), tls, edge.acme());
  }

  /** The bound plain-HTTP registry port (useful with port 0); -1 when plain HTTP is off. */
  public int port() {
    return registryChannel == null
        ? -1
        : ((InetSocketAddress) registryChannel.localAddress()).getPort();
  }

  /** The bound HTTPS registry port; -1 without TLS. */
  public int tlsPort() {
    return tlsChannel == null ? -1 : ((InetSocketAddress) tlsChannel.localAddress()).getPort();
  }

  public int adminPort() {
    return ((InetSocketAddress) adminChannel.localAddress()).getPort();
  }

  /**
   * Graceful shutdown, first step: the registry listeners stop accepting connections (the admin
   * listener stays up so that probes see {@code /readyz} fail). Open connections are kept.
   */
  public void stopAccepting() {
    if (registryChannel != null) {
      registryChannel.close().syncUninterruptibly();
    }
    if (tlsChannel != null) {
      tlsChannel.close().syncUninterruptibly();
    }
  }

  /** Registry and admin requests being served now. */
  public int inFlight() {
    return workers.running();
  }

  /**
   * Waits until no request is in flight or {@code deadlineNanos} ({@link System#nanoTime()})
   * passes; returns how many were still in flight.
   */
  public int awaitIdle(long deadlineNanos) throws InterruptedException {
    return workers.awaitIdle(deadlineNanos);
  }

  /** Open registry connections (idle keep-alive ones included). */
  public int connections() {
    return connections.size();
  }

  @Override
  public void close() {
    connections.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    if (registryChannel != null) {
      registryChannel.close().syncUninterruptibly();
    }
    if (tlsChannel != null) {
      tlsChannel.close().syncUninterruptibly();
    }
    adminChannel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    workers.shutdownNow();
  }
}
