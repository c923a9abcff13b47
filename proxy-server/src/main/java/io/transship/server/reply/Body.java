package io.transship.server.reply;

import java.nio.file.Path;

/** The body of a {@link Reply}. */
public sealed interface Body {

  /** Bytes the edge will send; -1 when unknown ahead (chunked encoding). */
  long length();

  /** No body (HEAD, 304, errors without a body). */
  record Empty() implements Body {
    @Override
    public long length() {
      return 0;
    }
  }

  /** A small in-memory body (manifests, error JSON). */
  record Bytes(byte[] content) implements Body {
    @Override
    public long length() {
      return content.length;
    }
  }

  /** A slice of a local file: the edge sends it zero-copy when the connection allows. */
  record FileSlice(Path file, long offset, long length) implements Body {}

  /** A body produced by writing into a sink, on the caller's (virtual) thread. */
  record Stream(long length, Streamer streamer) implements Body {}

  /** Writes a streamed body; may block, never on an event loop. */
  @FunctionalInterface
  interface Streamer {
    void writeTo(BodySink sink) throws java.io.IOException;
  }
}
