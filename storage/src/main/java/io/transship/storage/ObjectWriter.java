package io.transship.storage;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;

/**
 * A pending object. Bytes written are invisible until {@link #commit()}; {@link #close()} without a
 * commit aborts. Not thread-safe: one writer, one thread at a time. Once committed or aborted, a
 * writer refuses further {@link #write} and {@link #commit} calls with an {@link IOException}.
 */
public interface ObjectWriter extends Closeable {

  void write(byte[] buffer, int offset, int length) throws IOException;

  /** Bytes written so far. */
  long written();

  /** Makes the object visible atomically, replacing any previous object under the key. */
  void commit() throws IOException;

  /** Discards everything written; idempotent, and a no-op after commit. */
  void abort();

  /** Aborts unless committed. */
  @Override
  default void close() {
    abort();
  }

  /** A view as an {@link OutputStream} whose {@code close()} does not commit. */
  default OutputStream asOutputStream() {
    ObjectWriter self = this;
    return new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        self.write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        self.write(b, off, len);
      }
    };
  }
}
