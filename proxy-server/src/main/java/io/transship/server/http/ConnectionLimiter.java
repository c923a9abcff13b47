package io.transship.server.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.transship.oci.ErrorCode;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the open connections of one listener, in total and per client IP address. A connection
 * over either bound is answered {@code 503} (OCI error JSON, {@code Connection: close}) without
 * reading anything and closed; it never reaches the HTTP codec. Shared by every connection of its
 * listener; the first handler of the pipeline.
 */
@ChannelHandler.Sharable
final class ConnectionLimiter extends ChannelInboundHandlerAdapter {
  private final int max;
  private final int maxPerAddress;
  private final ConnectionEvents events;
  private final AtomicInteger open = new AtomicInteger();
  private final ConcurrentHashMap<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();

  ConnectionLimiter(int max, int maxPerAddress, ConnectionEvents events) {
    this.max = max;
    this.maxPerAddress = maxPerAddress;
    this.events = events;
    events.openConnections(open::get);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    Channel channel = ctx.channel();
    InetAddress address = address(channel);
    int total = open.incrementAndGet();
    int fromAddress = address == null ? 1 : perAddress.merge(address, 1, Integer::sum);
    channel.closeFuture().addListener(f -> release(address));
    if (total > max) {
      refuse(ctx, "max-connections", "connection limit (" + max + ") reached");
    } else if (fromAddress > maxPerAddress) {
      refuse(
          ctx,
          "max-per-address",
          "connection limit per client address (" + maxPerAddress + ") reached");
    } else {
      super.channelActive(ctx);
    }
  }

  private void refuse(ChannelHandlerContext ctx, String reason, String what) {
    ctx.channel().config().setAutoRead(false);
    events.rejected(reason, ctx.channel().remoteAddress(), what);
    ctx.writeAndFlush(RawReplies.error(ErrorCode.UNAVAILABLE, what + "; retry later"))
        .addListener(ChannelFutureListener.CLOSE);
  }

  private void release(InetAddress address) {
    open.decrementAndGet();
    if (address != null) {
      perAddress.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
    }
  }

  private static InetAddress address(Channel channel) {
    return channel.remoteAddress() instanceof InetSocketAddress socket ? socket.getAddress() : null;
  }

  /** Open connections now (tests, metrics). */
  int open() {
    return open.get();
  }
}
