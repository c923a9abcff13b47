package io.transship.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import io.transship.server.logging.AccessLog;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * First handler of a registry connection: it looks at the first bytes to tell a TLS handshake (a
 * handshake record, type 22, version 3.x: RFC 8446 section 5.1) from plain HTTP, so a client that
 * picked the wrong scheme gets a one-line answer instead of a hang or a garbled error.
 *
 * <ul>
 *   <li>HTTPS port: a handshake puts the {@link SslHandler} of the current certificate in this
 *       handler's place; plain HTTP gets {@code 400} "use https://" and the connection closes.
 *   <li>Plain port: a handshake gets {@code 400} "use http://" (Go clients report "server gave HTTP
 *       response to HTTPS client"); anything else passes through untouched.
 * </ul>
 */
final class PortGuard extends ByteToMessageDecoder {
  static final String PLAIN_ON_TLS = "this port speaks HTTPS: use https://, not http://";
  static final String TLS_ON_PLAIN =
      "this port speaks plain HTTP: use http://, or the HTTPS port (tls.listen)";

  private final ServerTls tls;
  private final Runnable afterTls;

  /** For the HTTPS port; {@code afterTls} adds the handlers that go behind TLS. */
  static PortGuard https(ServerTls tls, Runnable afterTls) {
    return new PortGuard(tls, afterTls);
  }

  /** For the plain-HTTP port. */
  static PortGuard plain() {
    return new PortGuard(null, null);
  }

  private PortGuard(ServerTls tls, Runnable afterTls) {
    this.tls = tls;
    this.afterTls = afterTls;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (in.readableBytes() < 3) {
      return;
    }
    int at = in.readerIndex();
    boolean handshake =
        in.getUnsignedByte(at) == 22
            && in.getUnsignedByte(at + 1) == 3
            && in.getUnsignedByte(at + 2) <= 4;
    if (tls != null && handshake) {
      SslHandler ssl = tls.context().newHandler(ctx.alloc());
      afterTls.run(); // behind us, before the buffered bytes move on
      ctx.pipeline().replace(this, "tls", ssl);
    } else if (tls == null && !handshake) {
      ctx.pipeline().remove(this); // the buffered bytes go on to the HTTP codec
    } else {
      in.skipBytes(in.readableBytes());
      refuse(ctx, tls != null ? PLAIN_ON_TLS : TLS_ON_PLAIN);
    }
  }

  private static void refuse(ChannelHandlerContext ctx, String message) {
    byte[] body =
        ("{\"errors\":[{\"code\":\"UNSUPPORTED\",\"message\":\"" + message + "\"}]}\n")
            .getBytes(StandardCharsets.UTF_8);
    String head =
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: "
            + body.length
            + "\r\nConnection: close\r\n\r\n";
    ByteBuf reply = Unpooled.buffer(head.length() + body.length);
    reply.writeCharSequence(head, StandardCharsets.US_ASCII);
    reply.writeBytes(body);
    ctx.writeAndFlush(reply).addListener(ChannelFutureListener.CLOSE);
    // one access-log line, like every other answer: a scheme mix-up is a malformed request
    AccessLog.log(
        new AccessLog.Entry(
            ctx.channel().remoteAddress() instanceof java.net.InetSocketAddress peer
                    && peer.getAddress() != null
                ? peer.getAddress().getHostAddress()
                : String.valueOf(ctx.channel().remoteAddress()),
            "-",
            "-",
            400,
            body.length,
            0,
            AccessLog.requestId(null),
            "invalid",
            "-",
            "-",
            "-",
            -1,
            null,
            "malformed request: " + message));
  }
}
