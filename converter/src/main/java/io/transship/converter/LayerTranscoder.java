package io.transship.converter;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Turns one compressed layer into another format. Pure: bytes in, bytes out, a result describing
 * what was written. Implementations are deterministic: the same input and options give the same
 * bytes on every run, machine and thread count.
 */
public interface LayerTranscoder {

  /**
   * Reads the whole source layer (gzip-compressed or plain tar, as {@code source} says) and writes
   * the converted layer to {@code out}.
   *
   * @param source the source layer's bytes
   * @param sourceCompression how {@code source} is compressed
   * @param expectedDiffId the config's {@code rootfs.diff_ids} entry for this layer: the sha256 of
   *     the uncompressed tar; a mismatch fails the conversion with {@link DiffIdMismatchException}
   *     (null skips the check)
   * @param out where the converted layer goes; not closed
   */
  TranscodeResult transcode(
      InputStream source,
      SourceCompression sourceCompression,
      io.transship.oci.Digest expectedDiffId,
      OutputStream out)
      throws IOException;

  /** How a source layer is compressed. */
  enum SourceCompression {
    GZIP,
    NONE
  }
}
