package io.transship.server.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;

/**
 * The admin port: {@code /metrics} (Prometheus text), {@code /healthz} (the process runs) and
 * {@code /readyz} (it can serve: storage usable). Scrapes run on a worker thread.
 */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

  /** What the admin endpoints report. */
  interface AdminEndpoints {
    String scrape();

    /** Empty when ready, else the reason it is not. */
    String notReadyReason();
  }

  private final AdminEndpoints endpoints;
  private final ExecutorService workers;

  AdminHandler(AdminEndpoints endpoints, ExecutorService workers) {
    this.endpoints = endpoints;
    this.workers = workers;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    String path = new QueryStringDecoder(request.uri()).path();
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    workers.execute(() -> {
      FullHttpResponse response =
          switch (path) {
            case "/metrics" ->
                text(HttpResponseStatus.OK, endpoints::scrape, "text/plain; version=0.0.4");
            case "/healthz" -> text(HttpResponseStatus.OK, () -> "ok\n", "text/plain");
            case "/readyz" -> {
              String reason = endpoints.notReadyReason();
              yield reason.isEmpty()
                  ? text(HttpResponseStatus.OK, () -> "ready\n", "text/plain")
                  : text(HttpResponseStatus.SERVICE_UNAVAILABLE, () -> reason + "\n", "text/plain");
            }
            default -> text(HttpResponseStatus.NOT_FOUND, () -> "not found\n", "text/plain");
          };
      HttpUtil.setKeepAlive(response, keepAlive);
      var future = ctx.writeAndFlush(response);
      if (!keepAlive) {
        future.addListener(ChannelFutureListener.CLOSE);
      }
    });
  }

  private static FullHttpResponse text(
      HttpResponseStatus status, Supplier<String> body, String contentType) {
    byte[] bytes = body.get().getBytes(StandardCharsets.UTF_8);
    FullHttpResponse response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    HttpUtil.setContentLength(response, bytes.length);
    return response;
  }
}
