package io.transship.converter;

import io.transship.oci.Digest;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The descriptor fields a converted layer takes in a rewritten manifest (OCI image spec v1.1,
 * "Descriptors": {@code mediaType}, {@code digest}, {@code size}, {@code annotations}).
 *
 * @param mediaType the converted layer's media type
 * @param digest the converted blob's digest
 * @param size the converted blob's size in bytes
 * @param annotations added to the layer's existing annotations, overwriting equal keys (null means
 *     none)
 */
public record LayerReplacement(
    String mediaType, Digest digest, long size, Map<String, String> annotations) {

  public LayerReplacement {
    Objects.requireNonNull(mediaType, "mediaType");
    Objects.requireNonNull(digest, "digest");
    if (size < 0) {
      throw new IllegalArgumentException("size must not be negative: " + size);
    }
    if (annotations != null) {
      annotations.forEach((key, value) -> {
        Objects.requireNonNull(key, "annotation key");
        Objects.requireNonNull(value, "annotation value");
      });
    }
    // sorted, so that rewritten manifests list new annotations in one order on every run
    annotations =
        annotations == null
            ? Map.of()
            : Collections.unmodifiableSortedMap(new TreeMap<>(annotations));
  }

  /** The descriptor of what a {@link LayerTranscoder} wrote. */
  public static LayerReplacement of(TranscodeResult result) {
    return new LayerReplacement(
        result.mediaType(), result.digest(), result.size(), result.annotations());
  }
}
