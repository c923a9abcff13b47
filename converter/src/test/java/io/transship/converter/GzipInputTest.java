package io.transship.converter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.transship.converter.LayerTranscoder.SourceCompression;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link NativeInflate} (ISA-L) against {@link ConcatenatedGzipInputStream} (zlib), and against
 * {@link GZIPInputStream} for well-formed input: same bytes, same verdict on bad input. The
 * comparisons are skipped when libisal.so.2 cannot be loaded; {@link
 * #nativeInflaterIsUsedWhenInstalled} fails then if the file is there all the same.
 */
class GzipInputTest {

  /** Where Debian/Ubuntu/Fedora put libisal.so.2 (the package CI installs is libisal2). */
  private static final List<Path> LIBRARY_PATHS =
      List.of(
          Path.of("/usr/lib/x86_64-linux-gnu/libisal.so.2"),
          Path.of("/usr/lib/aarch64-linux-gnu/libisal.so.2"),
          Path.of("/usr/lib64/libisal.so.2"),
          Path.of("/usr/lib/libisal.so.2"),
          Path.of("/usr/local/lib/libisal.so.2"));

  /** The tests that run without the library. */
  private static final Set<String> WITHOUT_NATIVE =
      Set.of("nativeInflaterIsUsedWhenInstalled", "propertyForcesTheJdkInflater");

  @BeforeEach
  void requireNative(TestInfo test) {
    if (!WITHOUT_NATIVE.contains(test.getTestMethod().orElseThrow().getName())) {
      assumeTrue(NativeInflate.isAvailable(), () -> "ISA-L: " + NativeInflate.describe());
    }
  }

  @Test
  void nativeInflaterIsUsedWhenInstalled() throws IOException {
    boolean installed = LIBRARY_PATHS.stream().anyMatch(Files::isRegularFile);
    assumeTrue(installed, "libisal.so.2 is not installed");
    assertThat(NativeInflate.isAvailable()).as(NativeInflate.describe()).isTrue();
    String previous = System.clearProperty(GzipInput.NATIVE_PROPERTY);
    try {
      assertThat(GzipInput.usesNative()).isTrue();
      assertThat(GzipInput.implementation()).contains("ISA-L");
      try (InputStream in = GzipInput.open(new ByteArrayInputStream(gzip(text(1000), 6)))) {
        assertThat(in).isInstanceOf(NativeInflate.class);
        assertThat(in.readAllBytes()).isEqualTo(text(1000));
      }
    } finally {
      restore(previous);
    }
  }

  @Test
  void propertyForcesTheJdkInflater() throws IOException {
    String previous = System.setProperty(GzipInput.NATIVE_PROPERTY, "false");
    try {
      assertThat(GzipInput.usesNative()).isFalse();
      assertThat(GzipInput.implementation()).startsWith("zlib");
      try (InputStream in = GzipInput.open(new ByteArrayInputStream(gzip(text(10), 6)))) {
        assertThat(in).isInstanceOf(ConcatenatedGzipInputStream.class);
        assertThat(in.readAllBytes()).isEqualTo(text(10));
      }
    } finally {
      restore(previous);
    }
  }

  @Test
  void singleMember() throws IOException {
    byte[] data = text(300_000);
    assertSameBytes(gzip(data, 6), data);
  }

  @Test
  void twoConcatenatedMembers() throws IOException {
    byte[] a = text(200_000);
    byte[] b = random(150_000, 2);
    assertSameBytes(concat(gzip(a, 6), gzip(b, 1)), concat(a, b));
  }

  @Test
  void emptyMembers() throws IOException {
    byte[] a = text(5000);
    assertSameBytes(gzip(new byte[0], 6), new byte[0]);
    assertSameBytes(concat(gzip(new byte[0], 6), gzip(new byte[0], 9)), new byte[0]);
    assertSameBytes(concat(gzip(a, 6), gzip(new byte[0], 6), gzip(a, 1)), concat(a, a));
  }

  @Test
  void manySmallMembers() throws IOException {
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    ByteArrayOutputStream plain = new ByteArrayOutputStream();
    Random random = new Random(7);
    for (int i = 0; i < 500; i++) {
      byte[] part = text(random.nextInt(3000));
      gz.writeBytes(gzip(part, 1 + random.nextInt(9)));
      plain.writeBytes(part);
    }
    assertSameBytes(gz.toByteArray(), plain.toByteArray());
  }

  @Test
  void large20MegabytesOfRandomAndCompressibleData() throws IOException {
    byte[] data = concat(random(10_000_000, 3), text(10_000_000));
    assertSameBytes(gzip(data, 6), data);
  }

  @Test
  void highlyCompressibleDataFillsTheOutputBufferManyTimesPerInputBuffer() throws IOException {
    byte[] zeros = new byte[30_000_000]; // ~30 KB of gzip: one input buffer, 115 output buffers
    assertSameBytes(
        concat(gzip(zeros, 9), gzip(text(1000), 6), gzip(zeros, 1)),
        concat(zeros, text(1000), zeros));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 9})
  void levels(int level) throws IOException {
    byte[] data = concat(text(3_000_000), random(1_000_000, level), text(500_000));
    assertSameBytes(gzip(data, level), data);
  }

  @Test
  void headerWithExtraNameCommentAndHeaderCrc() throws IOException {
    byte[] data = text(100_000);
    byte[] member = member(data, 9, true);
    assertSameBytes(member, data);
    assertSameBytes(concat(member, gzip(data, 1), member), concat(data, data, data));
  }

  @Test
  void corruptHeaderCrcIsRejected() {
    byte[] member = member(text(1000), 6, true);
    int hcrc = member.length - 8 - deflate(text(1000), 6).length - 2;
    member[hcrc] ^= 1;
    assertBothFail(member, ZipException.class);
  }

  @Test
  void reservedFlagsAndOtherMethodsAreRejected() {
    byte[] reserved = gzip(text(1000), 6);
    reserved[3] = (byte) 0x20;
    assertBothFail(reserved, ZipException.class);
    byte[] method = gzip(text(1000), 6);
    method[2] = 7;
    assertBothFail(method, ZipException.class);
  }

  @Test
  void anythingButTheEndOfInputAfterAMemberIsAnError() {
    byte[] one = gzip(text(50_000), 6);
    assertBothFail(concat(one, new byte[512]), ZipException.class); // zero padding: Go rejects it
    assertBothFail(concat(one, "garbage".getBytes(StandardCharsets.US_ASCII)), ZipException.class);
    assertBothFail(concat(one, new byte[] {0x1f}), EOFException.class);
    assertBothFail(concat(one, new byte[] {0x1f, (byte) 0x8b, 8}), EOFException.class);
    byte[] two = concat(one, gzip(text(5000), 6));
    two[one.length] = 0;
    assertBothFail(two, ZipException.class);
  }

  @Test
  void corruptCrcThrows() {
    byte[] gz = gzip(text(100_000), 6);
    gz[gz.length - 8] ^= 0x55;
    assertBothFail(gz, ZipException.class);
  }

  @Test
  void aFailedStreamKeepsFailing() throws IOException {
    byte[] gz = gzip(text(1_000_000), 6);
    gz[gz.length - 8] ^= 0x55;
    try (InputStream in = NativeInflate.open(new ByteArrayInputStream(gz))) {
      byte[] buffer = new byte[8192];
      assertThatThrownBy(
              () -> {
                while (in.read(buffer) != -1) {
                  // until the trailer
                }
              })
          .isInstanceOf(ZipException.class)
          .hasMessageContaining("CRC32");
      assertThatThrownBy(() -> in.read(buffer)).isInstanceOf(IOException.class);
      assertThatThrownBy(in::read).isInstanceOf(IOException.class);
    }
  }

  @Test
  void corruptIsizeThrows() {
    byte[] gz = gzip(text(100_000), 6);
    gz[gz.length - 1] ^= 1;
    assertBothFail(gz, ZipException.class);
  }

  @Test
  void corruptCrcInTheSecondMemberThrows() {
    byte[] second = gzip(text(70_000), 6);
    second[second.length - 6] ^= 1;
    assertBothFail(concat(gzip(random(80_000, 5), 6), second), ZipException.class);
  }

  @Test
  void corruptDeflateDataThrows() {
    byte[] gz = gzip(concat(text(200_000), random(100_000, 9)), 6);
    for (int offset : new int[] {12, 100, gz.length / 2, gz.length - 20}) {
      byte[] bad = gz.clone();
      bad[offset] ^= (byte) 0xa5;
      assertBothFail(bad, IOException.class); // where a decoder notices may differ
    }
  }

  @Test
  void truncatedInputThrows() {
    byte[] gz = gzip(concat(text(500_000), random(100_000, 4)), 6);
    for (int length : new int[] {0, 1, 5, 10, 11, 200, gz.length / 2, gz.length - 9}) {
      assertBothFail(Arrays.copyOf(gz, length), EOFException.class);
    }
    for (int cut = 1; cut <= 8; cut++) { // inside the trailer
      assertBothFail(Arrays.copyOf(gz, gz.length - cut), EOFException.class);
    }
    byte[] two = concat(gzip(text(1000), 6), gz);
    assertBothFail(Arrays.copyOf(two, two.length - 100), EOFException.class); // second body
  }

  @Test
  void notGzipThrows() {
    assertBothFail(
        "hello, this is plain text".getBytes(StandardCharsets.US_ASCII), ZipException.class);
  }

  @Test
  void byteAtATimeReadsAndTheEndOfStream() throws IOException {
    byte[] data = concat(text(70_000), random(1000, 8));
    byte[] gz = concat(gzip(data, 6), gzip(data, 6));
    try (InputStream in = NativeInflate.open(new ByteArrayInputStream(gz))) {
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      for (int b = in.read(); b != -1; b = in.read()) {
        got.write(b);
      }
      assertThat(got.toByteArray()).isEqualTo(concat(data, data));
      assertThat(in.read()).isEqualTo(-1);
      assertThat(in.read(new byte[10], 0, 10)).isEqualTo(-1);
      assertThat(in.read(new byte[10], 0, 0)).isZero();
    }
  }

  @Test
  void readingAfterCloseThrows() throws IOException {
    InputStream in = NativeInflate.open(new ByteArrayInputStream(gzip(text(10_000), 6)));
    assertThat(in.read()).isNotNegative();
    in.close();
    in.close(); // idempotent
    assertThatThrownBy(in::read).isInstanceOf(IOException.class);
  }

  @Test
  void transcoderWritesTheSameLayerWithEitherInflater() throws IOException {
    byte[] tar = concat(text(3_000_000), random(500_000, 11));
    byte[] gz = concat(gzip(tar, 6), gzip(text(1000), 9));
    ZstdTranscoder transcoder = new ZstdTranscoder(new ZstdOptions(3, 2));
    String previous = System.getProperty(GzipInput.NATIVE_PROPERTY);
    try {
      System.clearProperty(GzipInput.NATIVE_PROPERTY);
      ByteArrayOutputStream nativeOut = new ByteArrayOutputStream();
      TranscodeResult nativeResult =
          transcoder.transcode(
              new ByteArrayInputStream(gz), SourceCompression.GZIP, null, nativeOut);
      System.setProperty(GzipInput.NATIVE_PROPERTY, "false");
      ByteArrayOutputStream jdkOut = new ByteArrayOutputStream();
      TranscodeResult jdkResult =
          transcoder.transcode(new ByteArrayInputStream(gz), SourceCompression.GZIP, null, jdkOut);
      assertThat(nativeResult).isEqualTo(jdkResult);
      assertThat(nativeOut.toByteArray()).isEqualTo(jdkOut.toByteArray());
      assertThat(nativeResult.uncompressedSize()).isEqualTo(tar.length + 1000L);
    } finally {
      restore(previous);
    }
  }

  // --- helpers ---

  /**
   * Decompresses with zlib (the fallback, and GZIPInputStream) and ISA-L, whole and through a
   * source that trickles bytes.
   */
  private static void assertSameBytes(byte[] gz, byte[] expected) throws IOException {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
      assertThat(in.readAllBytes()).as("GZIPInputStream").isEqualTo(expected);
    }
    byte[] jdk;
    try (InputStream in = GzipInput.openFallback(new ByteArrayInputStream(gz))) {
      jdk = in.readAllBytes();
    }
    assertThat(jdk).as("ConcatenatedGzipInputStream").isEqualTo(expected);
    byte[] whole;
    try (InputStream in = NativeInflate.open(new ByteArrayInputStream(gz))) {
      whole = in.readAllBytes();
    }
    assertThat(whole).as("ISA-L, whole input").isEqualTo(jdk);
    byte[] trickled;
    try (InputStream in = NativeInflate.open(new Trickle(gz, 31))) {
      trickled = readInOddChunks(in);
    }
    assertThat(trickled).as("ISA-L, input in small pieces").isEqualTo(jdk);
  }

  /** Both inflaters throw {@code type}, whole and with the input in small pieces. */
  private static void assertBothFail(byte[] gz, Class<? extends IOException> type) {
    assertThatThrownBy(() -> drain(GzipInput.openFallback(new ByteArrayInputStream(gz))))
        .as("ConcatenatedGzipInputStream")
        .isInstanceOf(type);
    assertThatThrownBy(() -> drain(NativeInflate.open(new ByteArrayInputStream(gz))))
        .as("ISA-L, whole input")
        .isInstanceOf(type);
    assertThatThrownBy(() -> drain(NativeInflate.open(new Trickle(gz, 17))))
        .as("ISA-L, input in small pieces")
        .isInstanceOf(type);
  }

  private static void drain(InputStream in) throws IOException {
    try (in) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
    }
  }

  private static byte[] readInOddChunks(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[70_001];
    Random random = new Random(1);
    while (true) {
      int n = in.read(buffer, 3, 1 + random.nextInt(buffer.length - 3));
      if (n < 0) {
        return out.toByteArray();
      }
      out.write(buffer, 3, n);
    }
  }

  private static void restore(String previous) {
    if (previous == null) {
      System.clearProperty(GzipInput.NATIVE_PROPERTY);
    } else {
      System.setProperty(GzipInput.NATIVE_PROPERTY, previous);
    }
  }

  static byte[] gzip(byte[] data, int level) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz =
        new GZIPOutputStream(out, 8192) {
          {
            def.setLevel(level);
          }
        }) {
      gz.write(data);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
    return out.toByteArray();
  }

  private static byte[] deflate(byte[] data, int level) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Deflater deflater = new Deflater(level, true);
    try (DeflaterOutputStream d = new DeflaterOutputStream(out, deflater)) {
      d.write(data);
    } catch (IOException e) {
      throw new AssertionError(e);
    } finally {
      deflater.end();
    }
    return out.toByteArray();
  }

  /** A member with FEXTRA, FNAME, FCOMMENT and (optionally) FHCRC set. */
  private static byte[] member(byte[] data, int level, boolean headerCrc) {
    ByteArrayOutputStream header = new ByteArrayOutputStream();
    int flags = 4 | 8 | 16 | (headerCrc ? 2 : 0);
    header.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, (byte) flags, 1, 2, 3, 4, 0, 3});
    byte[] extra = "AB\u0003\u0000xyz".getBytes(StandardCharsets.ISO_8859_1);
    header.write(extra.length);
    header.write(0);
    header.writeBytes(extra);
    header.writeBytes("layer.tar\0".getBytes(StandardCharsets.ISO_8859_1));
    header.writeBytes("a comment\0".getBytes(StandardCharsets.ISO_8859_1));
    if (headerCrc) {
      CRC32 crc = new CRC32();
      crc.update(header.toByteArray());
      header.write((int) crc.getValue());
      header.write((int) crc.getValue() >>> 8);
    }
    header.writeBytes(deflate(data, level));
    CRC32 crc = new CRC32();
    crc.update(data);
    writeIntLe(header, (int) crc.getValue());
    writeIntLe(header, data.length);
    return header.toByteArray();
  }

  private static void writeIntLe(ByteArrayOutputStream out, int v) {
    for (int i = 0; i < 4; i++) {
      out.write(v >>> (8 * i));
    }
  }

  static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Compressible, text-like bytes (about 3:1 with gzip -6), the same for the same size. */
  static byte[] text(int size) {
    String[] words = {
      "usr",
      "lib",
      "x86_64-linux-gnu",
      "share",
      "doc",
      "copyright",
      "changelog.Debian.gz",
      "bin",
      "etc",
      "ld.so.conf.d",
      "libc.so.6",
      "ELF",
      "\n",
      "/",
      " ",
      "0644",
      "root",
      "\0\0\0\0"
    };
    Random random = new Random(size);
    ByteArrayOutputStream out = new ByteArrayOutputStream(size + 32);
    while (out.size() < size) {
      out.writeBytes(words[random.nextInt(words.length)].getBytes(StandardCharsets.US_ASCII));
      if (random.nextInt(8) == 0) {
        out.write(random.nextInt(256));
      }
    }
    return Arrays.copyOf(out.toByteArray(), size);
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  /** A source that returns at most a few bytes per read, varying, to split headers and blocks. */
  private static final class Trickle extends InputStream {
    private final byte[] data;
    private final Random random;
    private final int max;
    private int pos;

    Trickle(byte[] data, int max) {
      this.data = data;
      this.max = max;
      this.random = new Random(max);
    }

    @Override
    public int read() {
      return pos < data.length ? data[pos++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (len == 0) {
        return 0;
      }
      if (pos == data.length) {
        return -1;
      }
      // mostly tiny pieces, sometimes a large one so that the 64 KiB buffer fills up
      int piece = random.nextInt(10) == 0 ? 100_000 : 1 + random.nextInt(max);
      int n = Math.min(Math.min(len, piece), data.length - pos);
      System.arraycopy(data, pos, b, off, n);
      pos += n;
      return n;
    }
  }
}
