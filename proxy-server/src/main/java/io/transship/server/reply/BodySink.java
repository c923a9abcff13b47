package io.transship.server.reply;

import java.io.IOException;

/**
 * Where a streamed body goes. {@link #write} blocks while the client is slower than the source
 * (backpressure) and throws when the client went away.
 */
public interface BodySink {
  void write(byte[] buffer, int offset, int length) throws IOException;
}
