package io.transship.converter;

import java.io.IOException;

/** Sequential access to the data and padding bytes that follow one tar entry's header. */
interface EntryPayload {

  /** Reads exactly {@code length} bytes, or fails if the stream ends first. */
  void readFully(byte[] buffer, int offset, int length) throws IOException;

  /** Discards {@code length} bytes. */
  void skip(long length) throws IOException;
}
