package io.transship.server.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
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
import io.netty.handler.stream.ChunkedWriteHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.transship.server.routing.RequestRouter;
import io.transship.server.service.RegistryService;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Binds the registry listener and the admin listener on one Netty event-loop group (epoll when
 * available). Request work runs on virtual threads.
 */
public final class HttpServer implements AutoCloseable {
  private static final int MAX_REQUEST_LINE = 8 * 1024;
  private static final int MAX_HEADERS = 32 * 1024;
  private static final int IDLE_SECONDS = 300;

  private final EventLoopGroup group;
  private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
  private final Channel registryChannel;
  private final Channel adminChannel;

  private HttpServer(
      InetSocketAddress listen,
      InetSocketAddress admin,
      RequestRouter router,
      RegistryService service,
      AdminEndpoints endpoints)
      throws InterruptedException, BindException {
    boolean epoll = Epoll.isAvailable();
    this.group =
        new MultiThreadIoEventLoopGroup(
            epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    Class<? extends io.netty.channel.ServerChannel> channelType =
        epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    ChannelFuture registryBind =
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
                    ch.pipeline()
                        .addLast(new IdleStateHandler(0, 0, IDLE_SECONDS, TimeUnit.SECONDS))
                        .addLast(new IdleCloser())
                        .addLast(new HttpServerCodec(MAX_REQUEST_LINE, MAX_HEADERS, 64 * 1024))
                        .addLast(new ChunkedWriteHandler())
                        .addLast(new RegistryHandler(router, service, service.metrics(), workers));
                  }
                })
            .bind(listen);
    this.registryChannel = bound(registryBind, listen, "listen");
    ChannelFuture adminBind =
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
                        .addLast(new AdminHandler(endpoints, workers));
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
    if (registryChannel != null) {
      registryChannel.close().syncUninterruptibly();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    throw new BindException(
        key + " " + address.getHostString() + ":" + address.getPort() + ": " + reason);
  }

  /** Binds both listeners; returns once they accept connections. */
  public static HttpServer start(
      InetSocketAddress listen,
      InetSocketAddress admin,
      RequestRouter router,
      RegistryService service,
      AdminEndpoints endpoints)
      throws InterruptedException, BindException {
    return new HttpServer(listen, admin, router, service, endpoints);
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
