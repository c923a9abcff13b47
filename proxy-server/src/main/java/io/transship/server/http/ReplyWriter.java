package io.transship.server.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelProgressiveFuture;
import io.netty.channel.ChannelProgressiveFutureListener;
import io.netty.channel.ChannelProgressivePromise;
import io.netty.channel.DefaultFileRegion;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.stream.ChunkedNioFile;
import io.transship.server.reply.Body;
import io.transship.server.reply.BodySink;
import io.transship.server.reply.Reply;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes a {@link Reply} to a channel from a (virtual) worker thread. Streamed bodies block the
 * worker, never the event loop, while the socket is not writable: memory stays bounded by Netty's
 * write-buffer high-water mark whatever the blob size.
 */
final class ReplyWriter {
  static final String API_VERSION_HEADER = "Docker-Distribution-API-Version";
  static final String API_VERSION = "registry/2.0";

  private ReplyWriter() {}

  static final String REQUEST_ID_HEADER = "X-Request-Id";

  /** The request id to return, and the body bytes the socket took so far (also after an abort). */
  static final class Delivery {
    final String requestId;
    final AtomicLong bytes = new AtomicLong();

    Delivery(String requestId) {
      this.requestId = requestId;
    }
  }

  /**
   * Writes {@code reply}; returns the body bytes written. Throws when the client went away or the
   * body source failed mid-way, in which case the caller must close the connection (the status line
   * is already out); {@code delivery.bytes} then holds what went out before.
   */
  static long write(Channel channel, Reply reply, boolean keepAlive, Delivery delivery)
      throws IOException {
    HttpResponse response =
        new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(reply.status()));
    for (Map.Entry<String, String> header : reply.headers().entrySet()) {
      response.headers().set(header.getKey(), header.getValue());
    }
    response.headers().set(API_VERSION_HEADER, API_VERSION);
    response.headers().set(REQUEST_ID_HEADER, delivery.requestId);
    HttpUtil.setKeepAlive(response, keepAlive);
    Body body = reply.body();
    if (body instanceof Body.Empty) {
      if (!response.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
        HttpUtil.setContentLength(response, 0);
      }
      channel.write(response);
      finish(channel);
      return 0;
    }
    if (body.length() >= 0) {
      HttpUtil.setContentLength(response, body.length());
    } else {
      response.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    return switch (body) {
      case Body.Bytes bytes -> {
        channel.write(response);
        channel.write(new DefaultHttpContent(Unpooled.wrappedBuffer(bytes.content())));
        finish(channel);
        delivery.bytes.set(bytes.content().length);
        yield bytes.content().length;
      }
      case Body.FileSlice slice -> writeFile(channel, response, slice, delivery.bytes);
      case Body.Stream stream -> {
        channel.writeAndFlush(response);
        ChannelSink sink = new ChannelSink(channel, delivery.bytes);
        stream.streamer().writeTo(sink);
        finish(channel);
        yield sink.written;
      }
      case Body.Empty empty -> 0L;
    };
  }

  private static long writeFile(
      Channel channel, HttpResponse response, Body.FileSlice slice, AtomicLong sent)
      throws IOException {
    FileChannel file = FileChannel.open(slice.file(), StandardOpenOption.READ);
    try {
      channel.write(response);
      ChannelProgressivePromise progress = channel.newProgressivePromise();
      progress.addListener(
          new ChannelProgressiveFutureListener() {
            @Override
            public void operationProgressed(
                ChannelProgressiveFuture future, long done, long total) {
              sent.set(done);
            }

            @Override
            public void operationComplete(ChannelProgressiveFuture future) {
              if (future.isSuccess()) {
                sent.set(slice.length());
              }
            }
          });
      // zero-copy only on a plain TCP connection: TLS and HTTP/2 streams need the bytes
      if (channel.pipeline().get(SslHandler.class) == null
          && !(channel instanceof Http2StreamChannel)) {
        channel.write(new DefaultFileRegion(file, slice.offset(), slice.length()), progress);
        finish(channel);
      } else {
        // TLS and HTTP/2 need the bytes in user space: stream the file in chunks instead
        await(
            channel.writeAndFlush(
                new HttpChunkedInput(
                    new ChunkedNioFile(file, slice.offset(), slice.length(), 64 * 1024)),
                progress));
      }
      if (progress.isDone() && !progress.isSuccess()) {
        throw new IOException(
            "client went away after " + sent.get() + " of " + slice.length() + " bytes");
      }
      return slice.length();
    } finally {
      file.close();
    }
  }

  /**
   * Ends the message. The body is complete at this point: a client that closes right after reading
   * {@code Content-Length} bytes is not a failure, so only the wait is done here.
   */
  private static void finish(Channel channel) {
    channel.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).awaitUninterruptibly();
  }

  private static void await(ChannelFuture future) throws IOException {
    try {
      future.sync();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while writing", e);
    } catch (Exception e) {
      throw new IOException("client connection failed: " + e.getMessage(), e);
    }
  }

  /** A {@link BodySink} over a channel with backpressure. */
  private static final class ChannelSink implements BodySink {
    private final Channel channel;
    private final AtomicLong sent;
    private long written;

    ChannelSink(Channel channel, AtomicLong sent) {
      this.channel = channel;
      this.sent = sent;
    }

    @Override
    public void write(byte[] buffer, int offset, int length) throws IOException {
      if (!channel.isActive()) {
        throw new IOException("client went away");
      }
      ByteBuf chunk = channel.alloc().buffer(length);
      chunk.writeBytes(buffer, offset, length);
      ChannelFuture future = channel.writeAndFlush(new DefaultHttpContent(chunk));
      future.addListener(f -> {
        if (f.isSuccess()) {
          sent.addAndGet(length); // on the wire (in the socket), not just queued
        }
      });
      written += length;
      if (!channel.isWritable()) {
        await(future); // the socket drained this chunk: below the high-water mark again
      }
    }
  }
}
