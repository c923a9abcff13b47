package io.transship.server.reply;

import io.transship.oci.ByteRange;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** A representation of known size whose byte ranges can be copied into a sink. */
public interface RangeSource extends AutoCloseable {
  long size();

  /** The local file holding exactly these bytes, when there is one (for zero-copy). */
  default Optional<Path> localFile() {
    return Optional.empty();
  }

  void copy(ByteRange range, BodySink sink) throws IOException;

  /** Releases what the source holds open; called once the body was written (or failed). */
  @Override
  default void close() throws IOException {}
}
