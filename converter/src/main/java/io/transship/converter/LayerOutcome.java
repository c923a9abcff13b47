package io.transship.converter;

import io.transship.oci.Digest;
import java.io.EOFException;
import java.util.Objects;
import java.util.zip.ZipException;

/**
 * What became of one layer of an image conversion. Only {@link Failed} is transient: an image with
 * a failed layer is served as converted as it could be, but not recorded, so a later pull completes
 * it. {@link Kept} is permanent (the same source bytes would fail the same way) and is recorded.
 */
public sealed interface LayerOutcome {

  /** Converted: the new descriptor and the diff_id of the converted layer's uncompressed tar. */
  record Converted(LayerReplacement descriptor, Digest diffId) implements LayerOutcome {
    public Converted {
      Objects.requireNonNull(descriptor, "descriptor");
      Objects.requireNonNull(diffId, "diffId");
    }
  }

  /** Left in its original form for a reason that will not change (format, diff_id mismatch). */
  record Kept(String reason) implements LayerOutcome {}

  /** Not converted this time (upstream, storage, shutdown): try again on a later pull. */
  record Failed(String reason) implements LayerOutcome {}

  /**
   * Classifies an exception thrown while transcoding a <em>verified</em> source blob: anything the
   * source bytes decide (unsupported or malformed tar, corrupt gzip, diff_id mismatch) is {@link
   * Kept}; everything else (I/O on our side, interruption) is {@link Failed}.
   */
  static LayerOutcome ofTranscodeFailure(Throwable error) {
    Throwable cause = root(error);
    String reason =
        cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    boolean fromSource =
        cause instanceof UnsupportedLayerException
            || cause instanceof DiffIdMismatchException
            || cause instanceof ZipException
            || cause instanceof EOFException
            || (cause.getMessage() != null && cause.getMessage().startsWith("malformed"));
    return fromSource ? new Kept(reason) : new Failed(reason);
  }

  /** The innermost cause of {@code error}. */
  static Throwable root(Throwable error) {
    Throwable cause = error;
    while (cause.getCause() != null && cause.getCause() != cause) {
      cause = cause.getCause();
    }
    return cause;
  }
}
