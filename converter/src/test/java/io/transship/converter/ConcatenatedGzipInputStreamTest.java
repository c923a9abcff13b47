package io.transship.converter;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import org.junit.jupiter.api.Test;

class ConcatenatedGzipInputStreamTest {
  private static final Random RANDOM = new Random(11);
  private static final byte[] DATA = data(300_000);

  @Test
  void readsOneMemberLikeTheJdk() throws IOException {
    byte[] gzip = TestTars.gzip(DATA);
    assertThat(gunzip(gzip, 64 * 1024)).isEqualTo(DATA).isEqualTo(jdkGunzip(gzip));
  }

  @Test
  void readsConcatenatedMembersIncludingAnEmptyOne() throws IOException {
    byte[] gzip =
        concat(
            TestTars.gzip(Arrays.copyOfRange(DATA, 0, 1000)),
            TestTars.gzip(new byte[0]),
            TestTars.gzip(Arrays.copyOfRange(DATA, 1000, DATA.length)));

    assertThat(gunzip(gzip, 64 * 1024)).isEqualTo(DATA);
  }

  @Test
  void anyBufferSizeAndAnyReadSizeGiveTheSameBytes() throws IOException {
    byte[] gzip = concat(TestTars.gzip(DATA), TestTars.gzip(DATA));
    byte[] expected = concat(DATA, DATA);
    for (int bufferSize : new int[] {1, 2, 7, 512, 8191, 1 << 20}) {
      assertThat(gunzip(gzip, bufferSize)).as("buffer %d", bufferSize).isEqualTo(expected);
    }
    try (InputStream in =
        new ConcatenatedGzipInputStream(new Trickle(new ByteArrayInputStream(gzip)), 64)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (int b = in.read(); b != -1; b = in.read()) {
        out.write(b);
      }
      assertThat(out.toByteArray()).isEqualTo(expected);
    }
  }

  @Test
  void skipsEveryOptionalHeaderField() throws IOException {
    byte[] gzip =
        member(DATA, new byte[] {'A', 'p', 2, 0, 'h', 'i'}, "layer.tar", "made by a test", true);

    assertThat(jdkGunzip(gzip)).as("the crafted member is valid gzip").isEqualTo(DATA);
    assertThat(gunzip(gzip, 4096)).isEqualTo(DATA);
  }

  @Test
  void aHugeFileNameIsSkippedNotStored() throws IOException {
    byte[] gzip = member(DATA, null, "n".repeat(8 * 1024 * 1024), null, false);
    assertThat(gunzip(gzip, 64 * 1024)).isEqualTo(DATA);
  }

  @Test
  void badDataAfterAMemberIsAnErrorWhereTheJdkStopsSilently() throws IOException {
    byte[] one = TestTars.gzip(DATA);
    byte[] two = concat(one, TestTars.gzip(DATA));
    two[one.length] = 0; // the second member's ID1
    assertThat(jdkGunzip(two)).as("the JDK truncates").hasSize(DATA.length);

    assertFails(two, ZipException.class, "unexpected data after gzip member 1");
    assertFails(concat(one, "garbage".getBytes(ISO_8859_1)), ZipException.class, "unexpected data");
    assertFails(concat(one, new byte[512]), ZipException.class, "unexpected data");
    assertFails(concat(one, new byte[] {0x1f}), EOFException.class, "header");
  }

  @Test
  void anythingElseBrokenIsAnErrorToo() {
    byte[] good = TestTars.gzip(DATA);
    assertFails(new byte[0], EOFException.class, "ends");
    assertFails("plain text".getBytes(ISO_8859_1), ZipException.class, "not in gzip format");
    assertFails(Arrays.copyOf(good, good.length / 2), EOFException.class, "inside member 1");
    assertFails(Arrays.copyOf(good, good.length - 3), EOFException.class, "trailer");
    assertFails(flip(good, good.length - 8), ZipException.class, "CRC32");
    assertFails(flip(good, good.length - 1), ZipException.class, "ISIZE");
    assertFails(flip(good, 200), ZipException.class, "");
    byte[] method = good.clone();
    method[2] = 7;
    assertFails(method, ZipException.class, "compression method 7");
    byte[] reserved = good.clone();
    reserved[3] = (byte) 0x20;
    assertFails(reserved, ZipException.class, "reserved");
    byte[] headerCrc = member(DATA, null, "x", null, true);
    int fhcrc = 10 + 2; // after the fixed header and "x\0"
    assertFails(flip(headerCrc, fhcrc), ZipException.class, "CRC16");
  }

  @Test
  void closingEndsTheInflaterAndClosesTheSource() throws IOException {
    boolean[] closed = {false};
    InputStream source =
        new ByteArrayInputStream(TestTars.gzip(DATA)) {
          @Override
          public void close() {
            closed[0] = true;
          }
        };
    InputStream in = new ConcatenatedGzipInputStream(source, 1024);
    in.close();
    in.close();
    assertThat(closed[0]).isTrue();
    assertThatThrownBy(in::read).isInstanceOf(IOException.class);
  }

  private static void assertFails(
      byte[] gzip, Class<? extends IOException> type, String messagePart) {
    assertThatThrownBy(() -> gunzip(gzip, 4096))
        .isInstanceOf(type)
        .hasMessageContaining(messagePart);
  }

  private static byte[] gunzip(byte[] gzip, int bufferSize) throws IOException {
    try (InputStream in =
        new ConcatenatedGzipInputStream(new ByteArrayInputStream(gzip), bufferSize)) {
      return in.readAllBytes();
    }
  }

  private static byte[] jdkGunzip(byte[] gzip) throws IOException {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gzip))) {
      return in.readAllBytes();
    }
  }

  /** One member with the optional header fields of RFC 1952 section 2.3.1 that are non-null. */
  private static byte[] member(
      byte[] data, byte[] extra, String name, String comment, boolean headerCrc) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int flags =
        (headerCrc ? 0x02 : 0)
            | (extra != null ? 0x04 : 0)
            | (name != null ? 0x08 : 0)
            | (comment != null ? 0x10 : 0);
    out.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, (byte) flags, 1, 2, 3, 4, 0, (byte) 255});
    if (extra != null) {
      out.write(extra.length & 0xff);
      out.write(extra.length >>> 8);
      out.writeBytes(extra);
    }
    if (name != null) {
      out.writeBytes(name.getBytes(ISO_8859_1));
      out.write(0);
    }
    if (comment != null) {
      out.writeBytes(comment.getBytes(ISO_8859_1));
      out.write(0);
    }
    if (headerCrc) {
      CRC32 crc = new CRC32();
      crc.update(out.toByteArray());
      out.write((int) crc.getValue() & 0xff);
      out.write((int) (crc.getValue() >>> 8) & 0xff);
    }
    Deflater deflater = new Deflater(6, true);
    deflater.setInput(data);
    deflater.finish();
    byte[] chunk = new byte[8192];
    while (!deflater.finished()) {
      out.write(chunk, 0, deflater.deflate(chunk));
    }
    deflater.end();
    CRC32 crc = new CRC32();
    crc.update(data);
    writeUInt32(out, crc.getValue());
    writeUInt32(out, data.length);
    return out.toByteArray();
  }

  private static void writeUInt32(ByteArrayOutputStream out, long value) {
    for (int shift = 0; shift < 32; shift += 8) {
      out.write((int) (value >>> shift) & 0xff);
    }
  }

  private static byte[] flip(byte[] bytes, int index) {
    byte[] copy = bytes.clone();
    copy[index] ^= 0x5a;
    return copy;
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  private static byte[] data(int size) {
    byte[] data = new byte[size];
    for (int i = 0; i < size; i++) {
      data[i] = (byte) (i % 3 == 0 ? RANDOM.nextInt() : 'a' + i % 13);
    }
    return data;
  }

  /** Short reads and {@code available() == 0}, as from a socket. */
  private static final class Trickle extends FilterInputStream {
    Trickle(InputStream in) {
      super(in);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return super.read(b, off, Math.min(len, 3));
    }

    @Override
    public int available() {
      return 0;
    }
  }
}
