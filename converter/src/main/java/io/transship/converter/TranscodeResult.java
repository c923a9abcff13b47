package io.transship.converter;

import io.transship.oci.Digest;
import java.util.Map;

/**
 * What a {@link LayerTranscoder} wrote.
 *
 * @param mediaType the converted layer's media type
 * @param digest sha256 of the bytes written
 * @param size bytes written
 * @param diffId sha256 of the uncompressed tar of the converted layer (equal to the source's for
 *     zstd; new for eStargz)
 * @param sourceDiffId sha256 of the source's uncompressed tar
 * @param uncompressedSize bytes of the converted layer's uncompressed tar
 * @param annotations layer annotations to put on the descriptor (eStargz TOC digest, ...)
 */
public record TranscodeResult(
    String mediaType,
    Digest digest,
    long size,
    Digest diffId,
    Digest sourceDiffId,
    long uncompressedSize,
    Map<String, String> annotations) {

  public TranscodeResult {
    annotations = Map.copyOf(annotations);
  }
}
