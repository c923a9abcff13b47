package io.transship.server.http;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.stream.ChunkedWriteHandler;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After the TLS handshake, installs HTTP/2 (ALPN {@code h2}, RFC 9113 section 3.2) or HTTP/1.1.
 * Each HTTP/2 stream becomes a child channel that speaks Netty's HTTP/1 objects, so the same {@link
 * RegistryHandler} serves both; flow control of a stream shows as that child channel's writability,
 * which the reply writer already waits on.
 */
final class AlpnSetup extends ApplicationProtocolNegotiationHandler {
  private static final Logger LOG = LoggerFactory.getLogger(AlpnSetup.class);
  private static final int MAX_STREAMS = 128;
  private static final int MAX_HEADER_LIST = 32 * 1024;

  private final Consumer<ChannelPipeline> http1;
  private final Supplier<ChannelHandler> streamHandler;

  /**
   * @param http1 adds the HTTP/1.1 codec and handlers to a connection's pipeline
   * @param streamHandler a new registry handler for one HTTP/2 stream
   */
  AlpnSetup(Consumer<ChannelPipeline> http1, Supplier<ChannelHandler> streamHandler) {
    super(ApplicationProtocolNames.HTTP_1_1);
    this.http1 = http1;
    this.streamHandler = streamHandler;
  }

  @Override
  protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
    LOG.debug("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }

  @Override
  protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
    if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
      ctx.pipeline()
          .addLast(
              Http2FrameCodecBuilder.forServer()
                  .initialSettings(
                      Http2Settings.defaultSettings()
                          .maxConcurrentStreams(MAX_STREAMS)
                          .maxHeaderListSize(MAX_HEADER_LIST))
                  .build())
          .addLast(
              new Http2MultiplexHandler(
                  new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel stream) {
                      stream
                          .pipeline()
                          .addLast(new Http2StreamFrameToHttpObjectCodec(true))
                          .addLast(new ChunkedWriteHandler())
                          .addLast(streamHandler.get());
                    }
                  }));
      return;
    }
    http1.accept(ctx.pipeline());
  }
}
