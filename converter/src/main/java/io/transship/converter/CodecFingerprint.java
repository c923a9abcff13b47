package io.transship.converter;

import io.transship.oci.Digest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;

/**
 * A short fingerprint of the bytes a {@link LayerTranscoder} writes, made by converting a fixed
 * sample layer. Conversion settings keys carry it, so a codec library that compresses differently
 * (a zstd-jni, libdeflate or zlib upgrade with other match finding) gets a new key instead of
 * silently producing other bytes under a key whose blobs were recorded as regenerable byte for
 * byte.
 */
public final class CodecFingerprint {
  private static final byte[] SAMPLE = sampleLayer();

  private CodecFingerprint() {}

  /** The first 8 hex digits of the sha256 of {@code transcoder}'s output for the sample layer. */
  public static String of(LayerTranscoder transcoder) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      transcoder.transcode(
          new ByteArrayInputStream(SAMPLE), LayerTranscoder.SourceCompression.GZIP, null, out);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fingerprint the codec", e);
    }
    return Digest.sha256(out.toByteArray()).encoded().substring(0, 8);
  }

  /**
   * A gzip tar of two files: 192 KiB of compressible text-like bytes (exercises match finding) and
   * 64 KiB of noise (exercises literal coding). Deterministic: a fixed seed and fixed headers.
   */
  private static byte[] sampleLayer() {
    SplittableRandom random = new SplittableRandom(0x7a5d);
    String[] words = {"layer ", "zstd ", "gzip ", "registry ", "manifest ", "blob ", "\n", "tar "};
    StringBuilder text = new StringBuilder();
    while (text.length() < 192 * 1024) {
      text.append(words[random.nextInt(words.length)]);
    }
    byte[] noise = new byte[64 * 1024];
    random.nextBytes(noise);
    ByteArrayOutputStream tar = new ByteArrayOutputStream();
    writeEntry(tar, "sample/text", text.substring(0, 192 * 1024).getBytes(StandardCharsets.UTF_8));
    writeEntry(tar, "sample/noise", noise);
    tar.writeBytes(new byte[1024]); // end of archive: two zero blocks
    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(gz)) {
      gzip.write(tar.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return gz.toByteArray();
  }

  /** One ustar entry (POSIX.1-1988 header, 512-byte blocks) of a regular file. */
  private static void writeEntry(ByteArrayOutputStream tar, String name, byte[] content) {
    byte[] header = new byte[512];
    put(header, 0, name);
    put(header, 100, "0000644");
    put(header, 108, "0000000");
    put(header, 116, "0000000");
    put(header, 124, String.format("%011o", content.length));
    put(header, 136, "00000000000");
    header[156] = '0';
    put(header, 257, "ustar");
    put(header, 263, "00");
    for (int i = 148; i < 156; i++) {
      header[i] = ' ';
    }
    int sum = 0;
    for (byte b : header) {
      sum += b & 0xff;
    }
    put(header, 148, String.format("%06o", sum));
    header[154] = 0;
    tar.writeBytes(header);
    tar.writeBytes(content);
    tar.writeBytes(new byte[(512 - content.length % 512) % 512]);
  }

  private static void put(byte[] header, int offset, String value) {
    byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(bytes, 0, header, offset, bytes.length);
  }
}
