package io.transship.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.transship.oci.ErrorCode;
import io.transship.oci.RegistryException;
import io.transship.server.reply.Body;
import io.transship.server.reply.ErrorReplies;
import io.transship.server.reply.Reply;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Complete HTTP/1.1 error responses as bytes, for the few places that answer before (or instead of)
 * a decoded request: a connection over the limit, request headers that did not arrive in time. The
 * body is the usual OCI error JSON; the connection is closed after it.
 */
final class RawReplies {
  private RawReplies() {}

  static ByteBuf error(ErrorCode code, String message) {
    Reply reply = ErrorReplies.of(new RegistryException(code, message));
    byte[] body = ((Body.Bytes) reply.body()).content();
    StringBuilder head = new StringBuilder(256);
    head.append("HTTP/1.1 ")
        .append(reply.status())
        .append(' ')
        .append(HttpResponseStatus.valueOf(reply.status()).reasonPhrase())
        .append("\r\n");
    for (Map.Entry<String, String> header : reply.headers().entrySet()) {
      head.append(header.getKey()).append(": ").append(header.getValue()).append("\r\n");
    }
    head.append(ReplyWriter.API_VERSION_HEADER).append(": ").append(ReplyWriter.API_VERSION);
    head.append("\r\nContent-Length: ").append(body.length).append("\r\nConnection: close\r\n\r\n");
    return Unpooled.wrappedBuffer(head.toString().getBytes(StandardCharsets.US_ASCII), body);
  }
}
