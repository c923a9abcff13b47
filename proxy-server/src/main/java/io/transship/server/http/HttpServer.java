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
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.transship.server.config.ServerLimits;
import io.transship.server.routing.RequestRouter;
import io.transship.server.service.RegistryService;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Binds the registry listener and the admin listener on one Netty event-loop group (epoll when
 * available). Request work runs on virtual threads.
 */
public final class HttpServer implements AutoCloseable {
  private final EventLoopGroup group;
  private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
  private final Channel registryChannel;
  private final Channel adminChannel;

  private HttpServer(
      InetSocketAddress listen,
      InetSocketAddress admin,
      RequestRouter router,
      RegistryService service,
      AdminEndpoints endpoints,
      ServerLimits limits)
      throws InterruptedException {
    ConnectionEvents registryEvents =
        new ConnectionEvents(service.metrics().registry(), "registry");
    ConnectionEvents adminEvents = new ConnectionEvents(service.metrics().registry(), "admin");
    ConnectionLimiter registryLimiter = limiter(limits, registryEvents);
    ConnectionLimiter adminLimiter = limiter(limits, adminEvents);
    boolean epoll = Epoll.isAvailable();
    this.group =
        new MultiThreadIoEventLoopGroup(
            epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    Class<? extends io.netty.channel.ServerChannel> channelType =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    this.registryChannel =
        new ServerBootstrap()
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
                    guard(ch.pipeline(), registryLimiter, registryEvents, limits);
                    ch.pipeline()
                        // one decoded message per read: with auto-read off while a request is
                        // served, pipelined requests the codec already decoded wait their turn
                        .addLast(new FlowControlHandler())
                        .addLast(new ChunkedWriteHandler())
                        .addLast(new RegistryHandler(router, service, service.metrics(), workers));
                  }
                })
            .bind(listen)
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
                    guard(ch.pipeline(), adminLimiter, adminEvents, limits);
                    ch.pipeline()
                        .addLast(new HttpObjectAggregator(64 * 1024))
                        .addLast(new AdminHandler(endpoints, workers));
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
      AdminEndpoints endpoints,
      ServerLimits limits)
      throws InterruptedException {
    return new HttpServer(listen, admin, router, service, endpoints, limits);
  }

  private static ConnectionLimiter limiter(ServerLimits limits, ConnectionEvents events) {
    return new ConnectionLimiter(
        limits.maxConnections(), limits.maxConnectionsPerAddress(), events);
  }

  /**
   * The connection limits every listener has, in front of its handlers: the connection count, the
   * idle timeout, the HTTP codec with the request-line and header-size bounds, and the
   * request-header deadline around it.
   */
  private static void guard(
      ChannelPipeline pipeline,
      ConnectionLimiter limiter,
      ConnectionEvents events,
      ServerLimits limits) {
    pipeline
        .addLast("limit", limiter)
        .addLast(new IdleStateHandler(0, 0, limits.idleTimeout().toMillis(), TimeUnit.MILLISECONDS))
        .addLast(new IdleCloser())
        .addLast(
            "http",
            new HttpServerCodec(limits.maxRequestLine(), limits.maxHeaderBytes(), 64 * 1024));
    HeaderTimeout.install(pipeline, "http", limits.headerTimeout(), events);
  }

  /** The bound registry port (useful with port 0). */
  public int port() {
    return ((InetSocketAddress) registryChannel.localAddress()).getPort();
  }

  public int adminPort() {
    return ((InetSocketAddress) adminChannel.localAddress()).getPort();
  }

  @Override
  public void close() {
    registryChannel.close().syncUninterruptibly();
    adminChannel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    workers.shutdownNow();
  }
}
