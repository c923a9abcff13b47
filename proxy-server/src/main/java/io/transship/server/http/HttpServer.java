package io.transship.server.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
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
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.transship.server.routing.RequestRouter;
import io.transship.server.service.RegistryService;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Binds the registry listeners (plain HTTP, HTTPS, or both) and the admin listener on one Netty
 * event-loop group (epoll when available). Request work runs on virtual threads. {@link PortGuard}
 * answers a client that picked the wrong scheme with a 400; on the HTTPS port it installs TLS with
 * the current certificate, and {@link AlpnSetup} then picks HTTP/2 or HTTP/1.1.
 */
public final class HttpServer implements AutoCloseable {
  private static final int MAX_REQUEST_LINE = 8 * 1024;
  private static final int MAX_HEADERS = 32 * 1024;
  private static final int IDLE_SECONDS = 300;

  private final EventLoopGroup group;
  private final InFlight workers = new InFlight(Executors.newVirtualThreadPerTaskExecutor());
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private final Channel registryChannel;
  private final Channel tlsChannel;
  private final Channel adminChannel;
  private final RequestRouter router;
  private final RegistryService service;
  private final EdgeOptions edge;

  private HttpServer(
      InetSocketAddress listen,
      InetSocketAddress admin,
      RequestRouter router,
      RegistryService service,
      AdminEndpoints endpoints,
      EdgeOptions edge)
      throws InterruptedException {
    this.router = router;
    this.service = service;
    this.edge = edge;
    boolean epoll = Epoll.isAvailable();
    this.group =
        new MultiThreadIoEventLoopGroup(
            epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    Class<? extends io.netty.channel.ServerChannel> channelType =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    this.registryChannel =
        listen == null
            ? null
            : new ServerBootstrap()
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
                        ch.pipeline()
                            .addLast(new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS))
                            .addLast(new IdleCloser())
                            .addLast(PortGuard.plain());
                        addHttp1(ch.pipeline(), false);
                      }
                    })
                .bind(listen)
                .sync()
                .channel();
    this.tlsChannel =
        edge.tlsListen() == null
            ? null
            : new ServerBootstrap()
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
                        ChannelPipeline pipeline = ch.pipeline();
                        pipeline
                            .addLast(new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS))
                            .addLast(new IdleCloser())
                            .addLast(
                                PortGuard.https(
                                    edge.tls(),
                                    () ->
                                        pipeline.addLast(
                                            new AlpnSetup(
                                                p -> addHttp1(p, true),
                                                () -> registryHandler(true)))));
                      }
                    })
                .bind(edge.tlsListen())
                .sync()
                .channel();
    this.adminChannel =
        new ServerBootstrap()
            .group(group)
            .channel(channelType)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast(new HttpServerCodec())
                        .addLast(new HttpObjectAggregator(64 * 1024))
                        .addLast(new AdminHandler(endpoints, workers, edge.admin()));
                  }
                })
            .bind(admin)
            .sync()
            .channel();
  }

  /** Binds both listeners; returns once they accept connections. */
  public static HttpServer start(
      InetSocketAddress listen,
      InetSocketAddress admin,
      RequestRouter router,
      RegistryService service,
      AdminEndpoints endpoints)
      throws InterruptedException {
    return new HttpServer(listen, admin, router, service, endpoints, EdgeOptions.open());
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
      EdgeOptions edge)
      throws InterruptedException {
    return new HttpServer(listen, admin, router, service, endpoints, edge);
  }

  /** The HTTP/1.1 codec and registry handler, behind TLS or not. */
  private void addHttp1(ChannelPipeline pipeline, boolean tls) {
    pipeline
        .addLast(new HttpServerCodec(MAX_REQUEST_LINE, MAX_HEADERS, 64 * 1024))
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
