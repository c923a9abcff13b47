package io.transship.server.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import io.transship.oci.ErrorCode;
import io.transship.oci.RegistryException;
import io.transship.server.auth.AuthGate;
import io.transship.server.auth.ClientOrigin;
import io.transship.server.auth.TrustedProxies;
import io.transship.server.reply.ErrorReplies;
import io.transship.server.reply.Reply;
import io.transship.server.routing.RegistryRequest;
import io.transship.server.routing.RequestRouter;
import io.transship.server.service.ProxyMetrics;
import io.transship.server.service.RegistryService;
import io.transship.server.tls.AcmeChallenges;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one handler that touches {@link ChannelHandlerContext} for the registry API. One request at a
 * time per connection: reading pauses while a request is served, so pipelined requests are answered
 * in order. The service runs on a virtual thread; bodies of requests (only write methods have them)
 * are never read: those requests are refused and the connection closed.
 */
final class RegistryHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = LoggerFactory.getLogger(RegistryHandler.class);
  private static final Logger ACCESS = LoggerFactory.getLogger("transship.access");

  private final RequestRouter router;
  private final RegistryService service;
  private final ProxyMetrics metrics;
  private final ExecutorService workers;
  private final AuthGate gate;
  private final TrustedProxies proxies;
  private final boolean tls;
  private final AcmeChallenges acme;

  RegistryHandler(
      RequestRouter router,
      RegistryService service,
      ProxyMetrics metrics,
      ExecutorService workers,
      AuthGate gate,
      TrustedProxies proxies,
      boolean tls,
      AcmeChallenges acme) {
    this.router = router;
    this.service = service;
    this.metrics = metrics;
    this.workers = workers;
    this.gate = gate;
    this.proxies = proxies;
    this.tls = tls;
    this.acme = acme;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof HttpRequest request) {
        accept(ctx.channel(), request);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void accept(Channel channel, HttpRequest request) {
    channel.config().setAutoRead(false);
    Exchange exchange = Exchange.of(request);
    if (!request.decoderResult().isSuccess()) {
      workers.execute(() ->
          finish(
              channel,
              exchange,
              "invalid",
              ErrorReplies.of(
                  new RegistryException(
                      ErrorCode.MALFORMED_REQUEST,
                      "malformed HTTP request (TLS sent to a plain-HTTP port?)")),
              false));
      return;
    }
    boolean keepAlive = HttpUtil.isKeepAlive(request) && !exchange.hasBody();
    workers.execute(() -> serve(channel, exchange, keepAlive));
  }

  private void serve(Channel channel, Exchange exchange, boolean keepAlive) {
    String route = "unrouted";
    Reply reply;
    try {
      // the client's Authorization stays here: nothing below this point receives it
      String authorization = exchange.header("Authorization");
      if (acme != null && exchange.path().startsWith(AcmeChallenges.PREFIX)) {
        route = "acme";
        reply = acmeAnswer(exchange.path());
      } else if (gate.handles(exchange.path())) {
        route = "token";
        reply =
            gate.token(
                exchange.method(), exchange.query(), authorization, origin(channel, exchange));
      } else {
        RegistryRequest routed =
            router.route(exchange.method(), exchange.path(), exchange.query(), exchange::header);
        route = routed.routeName();
        gate.check(routed, authorization, origin(channel, exchange));
        reply = service.handle(routed);
      }
    } catch (RegistryException e) {
      reply = ErrorReplies.of(e);
      if (e.getCause() != null) {
        LOG.debug("{} {}: {}", exchange.method(), exchange.path(), e.getMessage(), e.getCause());
      }
    } catch (RuntimeException e) {
      LOG.error("{} {} failed", exchange.method(), exchange.path(), e);
      reply = ErrorReplies.internal();
    }
    if ("HEAD".equals(exchange.method())) {
      reply = reply.headOnly();
    }
    finish(channel, exchange, route, reply, keepAlive);
  }

  private void finish(
      Channel channel, Exchange exchange, String route, Reply reply, boolean keepAlive) {
    long bytes = 0;
    String outcome = "";
    boolean reuse = keepAlive;
    try {
      bytes = ReplyWriter.write(channel, reply, keepAlive);
    } catch (IOException | RuntimeException e) {
      outcome = " aborted: " + e.getMessage();
      reuse = false;
      LOG.debug("writing the reply to {} {} failed", exchange.method(), exchange.path(), e);
    }
    Duration elapsed = exchange.elapsed();
    metrics.request(route, exchange.method(), reply.status(), elapsed);
    metrics.bytesServed(bytes);
    ACCESS.info(
        "{} {} {} {} {}B {}ms ua=\"{}\"{}",
        origin(channel, exchange).address(),
        exchange.method(),
        exchange.uri(),
        reply.status(),
        bytes,
        elapsed.toMillis(),
        exchange.header("User-Agent"),
        outcome);
    if (reuse) {
      channel.config().setAutoRead(true);
    } else {
      channel.close();
    }
  }

  /** An HTTP-01 challenge answer (RFC 8555 section 8.3), open to anyone, like the CA asks. */
  private Reply acmeAnswer(String path) {
    return acme.answer(path)
        .map(answer ->
            new Reply(
                200,
                Map.of("Content-Type", "application/octet-stream"),
                new io.transship.server.reply.Body.Bytes(
                    answer.getBytes(java.nio.charset.StandardCharsets.US_ASCII))))
        .orElseGet(() ->
            ErrorReplies.of(
                new RegistryException(ErrorCode.NAME_UNKNOWN, "no such ACME challenge")));
  }

  /** Client address, scheme and host; forwarding headers count only from trusted proxies. */
  private ClientOrigin origin(Channel channel, Exchange exchange) {
    return proxies.resolve(
        channel.remoteAddress() instanceof InetSocketAddress peer ? peer.getAddress() : null,
        tls,
        exchange::header);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!(cause instanceof IOException)) {
      LOG.warn("connection from {} failed", ctx.channel().remoteAddress(), cause);
    }
    ctx.close();
  }

  /** What the worker needs of a request, copied off Netty's objects. */
  private record Exchange(
      String method,
      String uri,
      String path,
      Map<String, List<String>> query,
      HttpHeaders headers,
      boolean hasBody,
      long startedNanos) {

    static Exchange of(HttpRequest request) {
      QueryStringDecoder decoder = new QueryStringDecoder(request.uri());
      boolean hasBody =
          HttpUtil.getContentLength(request, 0L) > 0 || HttpUtil.isTransferEncodingChunked(request);
      return new Exchange(
          request.method().name(),
          request.uri(),
          decoder.path(),
          decoder.parameters(),
          request.headers().copy(),
          hasBody,
          System.nanoTime());
    }

    /** A header's value; repeated lines are joined with ", " (RFC 9110 section 5.3). */
    String header(String name) {
      List<String> values = headers.getAll(name);
      return values.isEmpty()
          ? null
          : values.size() == 1 ? values.get(0) : String.join(", ", values);
    }

    Duration elapsed() {
      return Duration.ofNanos(System.nanoTime() - startedNanos);
    }
  }
}
