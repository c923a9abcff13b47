/**
 * What a service answers, independent of the HTTP library: a {@link
 * io.transship.server.reply.Reply} with status, headers and a {@link
 * io.transship.server.reply.Body} that is empty, bytes, a slice of a local file (sent zero-copy by
 * the edge) or a stream written into a {@link io.transship.server.reply.BodySink} with
 * backpressure. {@link io.transship.server.reply.ErrorReplies} is the one renderer of OCI error
 * bodies and {@link io.transship.server.reply.RangeReplies} turns Range requests into 200, 206,
 * {@code multipart/byteranges} or 416 replies (RFC 9110 section 14).
 */
package io.transship.server.reply;
