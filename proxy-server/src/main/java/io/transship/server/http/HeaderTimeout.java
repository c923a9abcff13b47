package io.transship.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.transship.oci.ErrorCode;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The request-header deadline: from the moment a connection opens, and again from the moment a
 * response has been written completely, the next request's headers must be complete within the
 * timeout. Bytes trickling in do not extend it (an idle timer reset on every byte is what slowloris
 * exploits). When it expires, a connection that sent part of a request is answered {@code 408} (RFC
 * 9110 section 15.5.9) and closed; an idle keep-alive connection is closed silently (RFC 9112
 * section 9.5 lets a server close idle connections at any time).
 *
 * <p>{@link #install} adds two handlers: one in front of the HTTP codec that notices raw bytes, and
 * this one behind it, which sees decoded requests coming in and the end of responses going out.
 * Everything runs on the channel's event loop.
 */
final class HeaderTimeout extends ChannelDuplexHandler {
  private final long timeoutNanos;
  private final ConnectionEvents events;
  private ChannelHandlerContext context;
  private ChannelHandlerContext rawContext;
  private ScheduledFuture<?> timer;
  private boolean bytesSeen;

  private HeaderTimeout(Duration timeout, ConnectionEvents events) {
    this.timeoutNanos = timeout.toNanos();
    this.events = events;
  }

  /** Adds the byte watcher before {@code codecName} and the timer after it. */
  static void install(
      ChannelPipeline pipeline, String codecName, Duration timeout, ConnectionEvents events) {
    HeaderTimeout timer = new HeaderTimeout(timeout, events);
    pipeline.addBefore(codecName, "header-bytes", timer.new ByteWatcher());
    pipeline.addAfter(codecName, "header-timeout", timer);
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    context = ctx;
    if (ctx.channel().isActive()) {
      arm();
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    arm();
    super.channelActive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (msg instanceof HttpRequest request) {
      disarm();
      RequestChecks.problem(request)
          .flatMap(RequestChecks::limitReason)
          .ifPresent(reason ->
              events.rejected(reason, ctx.channel().remoteAddress(), reason.replace('-', ' ')));
    }
    super.channelRead(ctx, msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof LastHttpContent) {
      ChannelPromise watched = promise.unvoid();
      watched.addListener(f -> {
        if (f.isSuccess() && ctx.channel().isActive()) {
          arm();
        }
      });
      ctx.write(msg, watched);
    } else {
      ctx.write(msg, promise);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    disarm();
    super.channelInactive(ctx);
  }

  private void arm() {
    disarm();
    bytesSeen = false;
    timer = context.executor().schedule(this::expired, timeoutNanos, TimeUnit.NANOSECONDS);
  }

  private void disarm() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void expired() {
    timer = null;
    if (!context.channel().isActive()) {
      return;
    }
    if (!bytesSeen) {
      context.close();
      return;
    }
    String what =
        "request headers not complete within " + Duration.ofNanos(timeoutNanos).toSeconds() + "s";
    events.rejected("header-timeout", context.channel().remoteAddress(), what);
    context.channel().config().setAutoRead(false);
    // written in front of the codec: these are already the response's bytes
    rawContext
        .writeAndFlush(RawReplies.error(ErrorCode.REQUEST_TIMEOUT, what))
        .addListener(ChannelFutureListener.CLOSE);
  }

  /** Notes that bytes of a request arrived since the timer was armed. */
  private final class ByteWatcher extends ChannelInboundHandlerAdapter {
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      rawContext = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      if (msg instanceof ByteBuf bytes && bytes.isReadable()) {
        bytesSeen = true;
      }
      super.channelRead(ctx, msg);
    }
  }
}
