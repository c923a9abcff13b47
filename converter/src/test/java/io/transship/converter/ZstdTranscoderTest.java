package io.transship.converter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.ZstdInputStream;
import io.transship.converter.LayerTranscoder.SourceCompression;
import io.transship.oci.Digest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ZstdTranscoderTest {
  private static byte[] tar;
  private static byte[] gzipped;

  @BeforeAll
  static void buildLayer() {
    tar = TestTars.layerTar(42, 2 * 1024 * 1024, 3 * 1024 * 1024);
    gzipped = TestTars.gzip(tar);
  }

  @Test
  void theFixtureIsARealisticLayer() throws IOException {
    List<TarArchiveEntry> entries = new ArrayList<>();
    try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
      for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
        entries.add(e);
      }
    }
    assertThat(tar.length).isGreaterThan(5 * 1024 * 1024);
    assertThat(entries).anyMatch(TarArchiveEntry::isDirectory);
    assertThat(entries).anyMatch(TarArchiveEntry::isSymbolicLink);
    assertThat(entries).anyMatch(TarArchiveEntry::isLink);
    assertThat(entries).anyMatch(e -> e.getName().length() > 100);
    assertThat(entries).anyMatch(e -> e.getName().contains("caf\u00e9"));
    assertThat(entries).anyMatch(e -> e.getLongUserId() == 3_000_000L);
    assertThat(entries)
        .anyMatch(e -> e.getExtraPaxHeader("SCHILY.xattr.security.capability") != null);
  }

  @Test
  void convertsGzipToZstdKeepingTheTarBytes() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TranscodeResult result =
        transcoder(3, 2).transcode(in(gzipped), SourceCompression.GZIP, sha256(tar), out);

    byte[] written = out.toByteArray();
    assertThat(unzstd(written)).isEqualTo(tar);
    assertThat(result.mediaType())
        .isEqualTo(ZstdTranscoder.MEDIA_TYPE)
        .isEqualTo("application/vnd.oci.image.layer.v1.tar+zstd");
    assertThat(result.digest()).isEqualTo(sha256(written));
    assertThat(result.size()).isEqualTo(written.length);
    assertThat(result.sourceDiffId()).isEqualTo(sha256(tar));
    assertThat(result.diffId()).isEqualTo(result.sourceDiffId());
    assertThat(result.uncompressedSize()).isEqualTo(tar.length);
    assertThat(result.annotations()).isEmpty();
    assertThat(written.length).isLessThan(tar.length);
  }

  @Test
  void writesOneZstdFrameWithAContentChecksum() throws IOException {
    byte[] written = convert(transcoder(3, 1), gzipped, SourceCompression.GZIP);
    // RFC 8878 3.1.1: magic number, then the Frame_Header_Descriptor whose bit 2 is the checksum
    assertThat(Arrays.copyOf(written, 4))
        .isEqualTo(new byte[] {(byte) 0x28, (byte) 0xB5, (byte) 0x2F, (byte) 0xFD});
    assertThat(written[4] & 0x04).as("Content_Checksum_flag").isNotZero();
    assertThat(written[4] & 0x03).as("Dictionary_ID_flag").isZero();
  }

  @Test
  void isDeterministicAcrossRuns() throws IOException {
    ZstdTranscoder transcoder = transcoder(3, 2);
    ByteArrayOutputStream first = new ByteArrayOutputStream();
    ByteArrayOutputStream second = new ByteArrayOutputStream();
    TranscodeResult a = transcoder.transcode(in(gzipped), SourceCompression.GZIP, null, first);
    TranscodeResult b =
        new ZstdTranscoder(new ZstdOptions(3, 2))
            .transcode(in(gzipped), SourceCompression.GZIP, null, second);

    assertThat(a).isEqualTo(b);
    assertThat(first.toByteArray()).isEqualTo(second.toByteArray());
  }

  @Test
  void theWorkerCountNeverChangesTheOutput() throws IOException {
    // Larger than several zstd jobs (4 x window = 8 MiB at level 3), so the workers really split
    // it.
    byte[] big = TestTars.layerTar(7, 8 * 1024 * 1024, 20 * 1024 * 1024);
    byte[] bigGzip = TestTars.gzip(big);

    byte[] one = convert(transcoder(3, 1), bigGzip, SourceCompression.GZIP);
    byte[] two = convert(transcoder(3, 2), bigGzip, SourceCompression.GZIP);
    byte[] four = convert(transcoder(3, 4), bigGzip, SourceCompression.GZIP);

    assertThat(two).isEqualTo(one);
    assertThat(four).isEqualTo(one);
    assertThat(unzstd(one)).isEqualTo(big);
  }

  @Test
  void readsMultiMemberGzipAsOneStream() throws IOException {
    byte[] twoMembers = TestTars.gzipTwoMembers(tar, tar.length / 3 + 17);
    assertThat(twoMembers).isNotEqualTo(gzipped);

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TranscodeResult result =
        transcoder(3, 2).transcode(in(twoMembers), SourceCompression.GZIP, sha256(tar), out);

    assertThat(unzstd(out.toByteArray())).isEqualTo(tar);
    assertThat(result.uncompressedSize()).isEqualTo(tar.length);
    assertThat(out.toByteArray())
        .isEqualTo(convert(transcoder(3, 2), gzipped, SourceCompression.GZIP));
  }

  @Test
  void readsMultiMemberGzipFromAStreamThatTrickles() throws IOException {
    byte[] twoMembers = TestTars.gzipTwoMembers(tar, 1_000_003);
    InputStream trickle = new Trickle(new ByteArrayInputStream(twoMembers));

    TranscodeResult result =
        transcoder(3, 1)
            .transcode(
                trickle, SourceCompression.GZIP, sha256(tar), OutputStream.nullOutputStream());

    assertThat(result.sourceDiffId()).isEqualTo(sha256(tar));
  }

  @Test
  void convertsPlainTar() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TranscodeResult result =
        transcoder(3, 2).transcode(in(tar), SourceCompression.NONE, sha256(tar), out);

    assertThat(unzstd(out.toByteArray())).isEqualTo(tar);
    assertThat(result.diffId()).isEqualTo(sha256(tar));
    assertThat(out.toByteArray())
        .isEqualTo(convert(transcoder(3, 2), gzipped, SourceCompression.GZIP));
  }

  @Test
  void aDiffIdMismatchFailsAfterReadingEverything() {
    Digest claimed = Digest.sha256("another layer".getBytes());
    CountingInput source = new CountingInput(in(gzipped));

    assertThatThrownBy(() ->
            transcoder(3, 2)
                .transcode(
                    source, SourceCompression.GZIP, claimed, OutputStream.nullOutputStream()))
        .isInstanceOf(DiffIdMismatchException.class)
        .hasMessageContaining(claimed.toString())
        .hasMessageContaining(sha256(tar).toString());
    assertThat(source.count).isEqualTo(gzipped.length);
    assertThat(source.closed).isFalse();
  }

  @Test
  void aTruncatedGzipIsAnError() {
    byte[] truncated = Arrays.copyOf(gzipped, gzipped.length / 2);

    assertThatThrownBy(() ->
            transcoder(3, 1)
                .transcode(
                    in(truncated), SourceCompression.GZIP, null, OutputStream.nullOutputStream()))
        .isInstanceOf(IOException.class);
  }

  @Test
  void dataAfterTheLastGzipMemberIsAnError() {
    byte[] withGarbage = Arrays.copyOf(gzipped, gzipped.length + 100); // zero padding

    assertThatThrownBy(() ->
            transcoder(3, 1)
                .transcode(
                    in(withGarbage),
                    SourceCompression.GZIP,
                    sha256(tar),
                    OutputStream.nullOutputStream()))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("unexpected data after gzip member 1");
  }

  @Test
  void aCorruptGzipTrailerIsAnError() {
    byte[] corrupt = gzipped.clone();
    corrupt[corrupt.length - 6] ^= 0x55; // the CRC32 of RFC 1952 2.3.1

    assertThatThrownBy(() ->
            transcoder(3, 1)
                .transcode(
                    in(corrupt), SourceCompression.GZIP, null, OutputStream.nullOutputStream()))
        .isInstanceOf(IOException.class);
  }

  @Test
  void neitherClosesTheSourceNorTheSink() throws IOException {
    CountingInput source = new CountingInput(in(gzipped));
    ClosedFlag sink = new ClosedFlag(new ByteArrayOutputStream());

    transcoder(3, 2).transcode(source, SourceCompression.GZIP, null, sink);

    assertThat(source.closed).isFalse();
    assertThat(sink.closed).isFalse();
    assertThat(source.count).isEqualTo(gzipped.length);
  }

  @Test
  void theLevelChangesTheOutputAndTheSettingsKey() throws IOException {
    byte[] small = TestTars.layerTar(3, 256 * 1024, 768 * 1024);
    byte[] fast = convert(transcoder(1, 2), small, SourceCompression.NONE);
    byte[] strong = convert(transcoder(19, 2), small, SourceCompression.NONE);

    assertThat(fast).isNotEqualTo(strong);
    assertThat(strong.length).isLessThan(fast.length);
    assertThat(unzstd(fast)).isEqualTo(small);
    assertThat(unzstd(strong)).isEqualTo(small);
    assertThat(new ZstdOptions(1, 2).settingsKey()).isEqualTo("zstd-l1");
    assertThat(new ZstdOptions(19, 2).settingsKey()).isEqualTo("zstd-l19");
  }

  @Test
  void anEmptySourceGivesAValidEmptyFrame() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TranscodeResult result =
        transcoder(3, 4)
            .transcode(in(new byte[0]), SourceCompression.NONE, sha256(new byte[0]), out);

    assertThat(unzstd(out.toByteArray())).isEmpty();
    assertThat(result.uncompressedSize()).isZero();
    assertThat(result.size()).isEqualTo(out.size()).isPositive();
    assertThat(convert(transcoder(3, 1), new byte[0], SourceCompression.NONE))
        .isEqualTo(out.toByteArray());
  }

  @Test
  void memoryDoesNotGrowWithTheLayer() throws IOException {
    // 1.25 GiB through a JVM with a 1 GiB heap (see the surefire argLine): only streaming fits.
    long size = 1280L * 1024 * 1024;
    CountingOutput sink = new CountingOutput();

    TranscodeResult result =
        transcoder(1, 4).transcode(new Generated(size), SourceCompression.NONE, null, sink);

    assertThat(result.uncompressedSize()).isEqualTo(size);
    assertThat(result.size()).isEqualTo(sink.count);
  }

  @Test
  void rejectsMissingArguments() {
    ZstdTranscoder transcoder = transcoder(3, 1);
    OutputStream sink = OutputStream.nullOutputStream();
    assertThatThrownBy(() -> transcoder.transcode(null, SourceCompression.NONE, null, sink))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> transcoder.transcode(in(tar), null, null, sink))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> transcoder.transcode(in(tar), SourceCompression.NONE, null, null))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> new ZstdTranscoder(null)).isInstanceOf(NullPointerException.class);
  }

  private static ZstdTranscoder transcoder(int level, int workers) {
    return new ZstdTranscoder(new ZstdOptions(level, workers));
  }

  private static byte[] convert(ZstdTranscoder transcoder, byte[] source, SourceCompression c)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    transcoder.transcode(in(source), c, null, out);
    return out.toByteArray();
  }

  private static InputStream in(byte[] bytes) {
    return new ByteArrayInputStream(bytes);
  }

  private static Digest sha256(byte[] bytes) {
    return Digest.sha256(bytes);
  }

  private static byte[] unzstd(byte[] compressed) throws IOException {
    try (ZstdInputStream in = new ZstdInputStream(new ByteArrayInputStream(compressed))) {
      return in.readAllBytes();
    }
  }

  /** A network-like source: short reads and {@code available() == 0}. */
  private static final class Trickle extends FilterInputStream {
    Trickle(InputStream in) {
      super(in);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return super.read(b, off, Math.min(len, 7));
    }

    @Override
    public int available() {
      return 0;
    }
  }

  private static final class CountingInput extends FilterInputStream {
    long count;
    boolean closed;

    CountingInput(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        count += n;
      }
      return n;
    }

    @Override
    public void close() throws IOException {
      closed = true;
      super.close();
    }
  }

  private static final class ClosedFlag extends FilterOutputStream {
    boolean closed;

    ClosedFlag(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  private static final class CountingOutput extends OutputStream {
    long count;

    @Override
    public void write(int b) {
      count++;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      count += len;
    }
  }

  /** {@code size} bytes of mildly compressible data, produced on the fly. */
  private static final class Generated extends InputStream {
    private final long size;
    private long position;

    Generated(long size) {
      this.size = size;
    }

    @Override
    public int read() {
      return position < size ? (int) (position++ * 31 >>> 7) & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (position >= size) {
        return -1;
      }
      int n = (int) Math.min(len, size - position);
      for (int i = 0; i < n; i++) {
        b[off + i] = (byte) ((position + i) * 31 >>> 7);
      }
      position += n;
      return n;
    }
  }
}
