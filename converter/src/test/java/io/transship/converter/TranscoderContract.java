package io.transship.converter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.transship.converter.LayerTranscoder.SourceCompression;
import io.transship.oci.Digest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What every {@link LayerTranscoder} promises, run against each of them: deterministic bytes for
 * any thread count and any gzip member split of the same tar, a result that describes what was
 * written, and failures the conversion service can classify ({@link LayerOutcome}).
 */
abstract class TranscoderContract {
  static byte[] tar;
  static byte[] gzipped;

  @BeforeAll
  static void buildLayer() {
    tar = TestTars.layerTar(7, 1024 * 1024, 2 * 1024 * 1024);
    gzipped = TestTars.gzip(tar);
  }

  /** The transcoder under test, compressing on {@code threads} threads. */
  abstract LayerTranscoder transcoder(int threads);

  /** The uncompressed tar of a converted layer. */
  abstract byte[] uncompressed(byte[] converted) throws IOException;

  private byte[] convert(LayerTranscoder transcoder, byte[] source) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    transcoder.transcode(new ByteArrayInputStream(source), SourceCompression.GZIP, null, out);
    return out.toByteArray();
  }

  @Test
  void theSameInputGivesTheSameBytesOnEveryRunAndThreadCount() throws IOException {
    byte[] first = convert(transcoder(1), gzipped);
    assertThat(convert(transcoder(1), gzipped)).isEqualTo(first);
    assertThat(convert(transcoder(3), gzipped)).isEqualTo(first);
  }

  @Test
  void howTheSourceGzipIsSplitIntoMembersChangesNothing() throws IOException {
    byte[] twoMembers = TestTars.gzipTwoMembers(tar, tar.length / 3 + 5);
    assertThat(convert(transcoder(2), twoMembers)).isEqualTo(convert(transcoder(2), gzipped));
  }

  @Test
  void theResultDescribesWhatWasWritten() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TranscodeResult result =
        transcoder(2)
            .transcode(
                new ByteArrayInputStream(gzipped), SourceCompression.GZIP, Digest.sha256(tar), out);
    byte[] written = out.toByteArray();
    assertThat(result.digest()).isEqualTo(Digest.sha256(written));
    assertThat(result.size()).isEqualTo(written.length);
    assertThat(result.sourceDiffId()).isEqualTo(Digest.sha256(tar));
    byte[] unpacked = uncompressed(written);
    assertThat(result.diffId()).isEqualTo(Digest.sha256(unpacked));
    assertThat(result.uncompressedSize()).isEqualTo(unpacked.length);
  }

  @Test
  void aTruncatedSourceIsAPermanentFailure() {
    byte[] truncated = Arrays.copyOf(gzipped, gzipped.length / 2);
    Throwable error = catchFailure(truncated, null);
    assertThat(LayerOutcome.ofTranscodeFailure(error)).isInstanceOf(LayerOutcome.Kept.class);
  }

  @Test
  void aDiffIdMismatchIsAPermanentFailure() {
    Throwable error = catchFailure(gzipped, Digest.sha256(new byte[] {1, 2, 3}));
    assertThat(error).isInstanceOf(DiffIdMismatchException.class);
    assertThat(LayerOutcome.ofTranscodeFailure(error)).isInstanceOf(LayerOutcome.Kept.class);
  }

  @Test
  void aBrokenSinkIsATransientFailure() {
    OutputStream broken =
        new OutputStream() {
          @Override
          public void write(int b) throws IOException {
            throw new IOException("No space left on device");
          }

          @Override
          public void write(byte[] b, int off, int len) throws IOException {
            throw new IOException("No space left on device");
          }
        };
    Throwable error = null;
    try {
      transcoder(1)
          .transcode(new ByteArrayInputStream(gzipped), SourceCompression.GZIP, null, broken);
    } catch (IOException | RuntimeException e) {
      error = e;
    }
    assertThat(error).isNotNull();
    assertThat(LayerOutcome.ofTranscodeFailure(error)).isInstanceOf(LayerOutcome.Failed.class);
  }

  @Test
  void theCodecFingerprintIsStable() {
    assertThat(CodecFingerprint.of(transcoder(1)))
        .hasSize(8)
        .isEqualTo(CodecFingerprint.of(transcoder(2)));
  }

  private Throwable catchFailure(byte[] source, Digest diffId) {
    Throwable[] caught = new Throwable[1];
    assertThatThrownBy(
            () -> {
              try {
                transcoder(1)
                    .transcode(
                        new ByteArrayInputStream(source),
                        SourceCompression.GZIP,
                        diffId,
                        OutputStream.nullOutputStream());
              } catch (IOException | RuntimeException e) {
                caught[0] = e;
                throw e;
              }
            })
        .isInstanceOf(Exception.class);
    return caught[0];
  }
}
