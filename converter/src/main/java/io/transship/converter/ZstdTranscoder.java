package io.transship.converter;

import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import io.transship.oci.Digest;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.Map;
import java.util.Objects;

/**
 * Re-compresses a layer's tar with zstd, leaving the tar bytes untouched: the converted layer has
 * the same diff_id as the source, so the image config is reused as is (OCI image spec v1.1, "Image
 * Layer Filesystem Changeset": a layer's DiffID is the digest of its uncompressed tar, whatever the
 * compression; {@code application/vnd.oci.image.layer.v1.tar+zstd} is the zstd form, RFC 8878).
 *
 * <p>Deterministic: the encoder runs with fixed parameters — the configured level, the frame
 * content checksum on (RFC 8878 3.1.1), no dictionary, no pledged source size, zstd's default
 * content-size flag (so, the size being unknown while streaming, the frame header has none) — and
 * always in multi-threaded mode with at least one worker, for which zstd produces the same bytes
 * whatever the number of workers. The same tar and level therefore give the same blob, and the same
 * digest, on every run and machine (for a given zstd library version).
 *
 * <p>Strict: a gzip source is checked member by member (header, CRC32, size) and must end right
 * after its last member; the uncompressed tar is hashed and compared with the config's diff_id once
 * the whole source has been read. Any failure is an {@link IOException}, and whatever was written
 * to the output by then is not a layer.
 *
 * <p>Streams with fixed buffers: memory does not grow with the layer's size. Instances are
 * immutable and may be shared between threads.
 */
public final class ZstdTranscoder implements LayerTranscoder {

  /** The media type of the layers this transcoder writes. */
  public static final String MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+zstd";

  private static final int COPY_BUFFER = 128 * 1024;

  private final ZstdOptions options;
  private final InflationLimits limits;

  /** Without inflation limits (trusted input). */
  public ZstdTranscoder(ZstdOptions options) {
    this(options, InflationLimits.none());
  }

  /**
   * @param limits checked while the source is read; a layer over one fails with {@link
   *     LayerLimitException} as soon as it is (they never change the output)
   */
  public ZstdTranscoder(ZstdOptions options, InflationLimits limits) {
    this.options = Objects.requireNonNull(options, "options");
    this.limits = Objects.requireNonNull(limits, "limits");
  }

  /** The settings this transcoder was built with. */
  public ZstdOptions options() {
    return options;
  }

  @Override
  public TranscodeResult transcode(
      InputStream source,
      SourceCompression sourceCompression,
      Digest expectedDiffId,
      OutputStream out)
      throws IOException {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(sourceCompression, "sourceCompression");
    Objects.requireNonNull(out, "out");

    MessageDigest tarSha256 = Digest.newSha256();
    // diff_ids are sha256 in practice; check another algorithm with its own hasher if one comes
    MessageDigest otherCheck =
        expectedDiffId == null || "sha256".equals(expectedDiffId.algorithm())
            ? null
            : expectedDiffId.newHasher();
    DigestingOutputStream compressed = new DigestingOutputStream(out);
    long tarSize = 0;

    try (InputStream tar =
            InflationGuard.open(new NonClosingInputStream(source), sourceCompression, limits);
        ZstdOutputStreamNoFinalizer zstd = newEncoder(compressed)) {
      byte[] buffer = new byte[COPY_BUFFER];
      for (int n = tar.read(buffer); n != -1; n = tar.read(buffer)) {
        tarSha256.update(buffer, 0, n);
        if (otherCheck != null) {
          otherCheck.update(buffer, 0, n);
        }
        zstd.write(buffer, 0, n);
        tarSize += n;
      }
    } // closing the encoder ends the frame (and flushes, without closing, the caller's stream)

    Digest sourceDiffId = Digest.ofSha256(tarSha256.digest());
    if (expectedDiffId != null) {
      boolean matches =
          otherCheck == null
              ? expectedDiffId.equals(sourceDiffId)
              : expectedDiffId.matches(otherCheck.digest());
      if (!matches) {
        throw new DiffIdMismatchException(expectedDiffId, sourceDiffId);
      }
    }
    return new TranscodeResult(
        MEDIA_TYPE,
        compressed.digest(),
        compressed.count(),
        sourceDiffId,
        sourceDiffId,
        tarSize,
        Map.of());
  }

  private ZstdOutputStreamNoFinalizer newEncoder(OutputStream sink) throws IOException {
    ZstdOutputStreamNoFinalizer zstd = new ZstdOutputStreamNoFinalizer(sink);
    try {
      zstd.setLevel(options.level());
      zstd.setChecksum(true);
      // Never 0: single-threaded mode may produce different bytes than any worker count >= 1.
      zstd.setWorkers(options.workers());
      return zstd;
    } catch (IOException | RuntimeException e) {
      zstd.close();
      throw e;
    }
  }

  /** Lets the decompressor be closed (freeing its native inflater) without closing the caller's. */
  private static final class NonClosingInputStream extends FilterInputStream {
    NonClosingInputStream(InputStream in) {
      super(in);
    }

    @Override
    public void close() {
      // the caller owns the source
    }
  }
}
