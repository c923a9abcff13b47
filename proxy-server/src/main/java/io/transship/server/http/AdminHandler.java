package io.transship.server.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.transship.oci.ErrorCode;
import io.transship.oci.RegistryException;
import io.transship.server.auth.AdminGuard;
import io.transship.server.reply.Body;
import io.transship.server.reply.ErrorReplies;
import io.transship.server.reply.Reply;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin port: {@code /metrics} (Prometheus text), {@code /healthz}, {@code /readyz}, {@code GET
 * /resolve?image=&format=} and {@code POST /warm?image=&format=&platform=} (JSON progress lines,
 * streamed). Work runs on a worker thread, never on the event loop. Actions need the admin token
 * ({@link AdminGuard}); the probes never do.
 */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final Logger LOG = LoggerFactory.getLogger(AdminHandler.class);

  private final AdminEndpoints endpoints;
  private final ExecutorService workers;
  private final AdminGuard guard;

  AdminHandler(AdminEndpoints endpoints, ExecutorService workers, AdminGuard guard) {
    this.endpoints = endpoints;
    this.workers = workers;
    this.guard = guard;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    QueryStringDecoder uri = new QueryStringDecoder(request.uri());
    HttpMethod method = request.method();
    Channel channel = ctx.channel();
    var problem = RequestChecks.problem(request);
    if (problem.isPresent()) {
      error(channel, ErrorReplies.of(problem.get()));
      return;
    }
    String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
    workers.execute(() -> serve(channel, method, uri, authorization));
  }

  private void serve(
      Channel channel, HttpMethod method, QueryStringDecoder uri, String authorization) {
    Map<String, List<String>> query = uri.parameters();
    try {
      guard.check(uri.path(), authorization);
      switch (uri.path()) {
        case "/metrics" ->
            text(channel, HttpResponseStatus.OK, endpoints.scrape(), "text/plain; version=0.0.4");
        case "/healthz" -> text(channel, HttpResponseStatus.OK, "ok\n", "text/plain");
        case "/readyz" -> {
          String reason = endpoints.notReadyReason();
          String degraded = endpoints.degradedReason();
          if (reason.isEmpty() && !degraded.isEmpty()) {
            text(
                channel,
                HttpResponseStatus.OK,
                "ready, degraded: " + degraded + "\n",
                "text/plain");
          } else if (reason.isEmpty()) {
            text(channel, HttpResponseStatus.OK, "ready\n", "text/plain");
          } else {
            text(channel, HttpResponseStatus.SERVICE_UNAVAILABLE, reason + "\n", "text/plain");
          }
        }
        case "/resolve" ->
            text(
                channel,
                HttpResponseStatus.OK,
                endpoints.resolve(required(query, "image"), first(query, "format")) + "\n",
                "application/json");
        case "/warm" -> {
          if (!HttpMethod.POST.equals(method)) {
            throw new RegistryException(ErrorCode.UNSUPPORTED, "use POST /warm");
          }
          warm(channel, query);
        }
        default -> text(channel, HttpResponseStatus.NOT_FOUND, "not found\n", "text/plain");
      }
    } catch (RegistryException e) {
      error(channel, ErrorReplies.of(e));
    } catch (RuntimeException e) {
      LOG.error("admin {} failed", uri.path(), e);
      error(channel, ErrorReplies.internal());
    }
  }

  private void warm(Channel channel, Map<String, List<String>> query) {
    String image = required(query, "image");
    List<String> platforms = query.getOrDefault("platform", List.of());
    boolean[] started = {false};
    try {
      endpoints.warm(
          image,
          first(query, "format"),
          platforms,
          line -> {
            if (!started[0]) {
              HttpResponse head =
                  new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
              head.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/x-ndjson");
              head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
              head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
              channel.write(head);
              started[0] = true;
            }
            channel.writeAndFlush(
                new DefaultHttpContent(Unpooled.copiedBuffer(line + "\n", StandardCharsets.UTF_8)));
          });
    } catch (RuntimeException e) {
      if (!started[0]) {
        throw e;
      }
      String message = e instanceof RegistryException ? e.getMessage() : "internal error";
      channel.writeAndFlush(
          new DefaultHttpContent(
              Unpooled.copiedBuffer(
                  "{\"event\":\"error\",\"message\":\"" + message.replace("\"", "'") + "\"}\n",
                  StandardCharsets.UTF_8)));
    }
    channel
        .writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT)
        .addListener(ChannelFutureListener.CLOSE);
  }

  private static String required(Map<String, List<String>> query, String name) {
    String value = first(query, name);
    if (value == null || value.isBlank()) {
      throw new RegistryException(
          ErrorCode.UNSUPPORTED, "query parameter " + name + " is required");
    }
    return value;
  }

  private static String first(Map<String, List<String>> query, String name) {
    List<String> values = query.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  private static void error(Channel channel, Reply reply) {
    byte[] body = reply.body() instanceof Body.Bytes bytes ? bytes.content() : new byte[0];
    send(channel, HttpResponseStatus.valueOf(reply.status()), reply.headers(), body);
  }

  private static void text(
      Channel channel, HttpResponseStatus status, String body, String contentType) {
    send(
        channel,
        status,
        Map.of(HttpHeaderNames.CONTENT_TYPE.toString(), contentType),
        body.getBytes(StandardCharsets.UTF_8));
  }

  /** One whole response, then the connection closes (clients must not reuse it). */
  private static void send(
      Channel channel, HttpResponseStatus status, Map<String, String> headers, byte[] body) {
    FullHttpResponse response =
        new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
    headers.forEach((name, value) -> response.headers().set(name, value));
    HttpUtil.setContentLength(response, body.length);
    HttpUtil.setKeepAlive(response, false);
    channel.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }
}
