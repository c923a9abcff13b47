package io.transship.server.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a layer file given to {@code convert} is, from its first bytes: gzip (RFC 1952 magic {@code
 * 1f 8b}) or a tar archive (a 512-byte header whose checksum field matches, POSIX.1-1988 ustar and
 * older formats alike). Anything else is refused rather than "converted".
 */
final class LayerFiles {
  private LayerFiles() {}

  /** A one-line reason why {@code file} can't be converted, or null when it is gzip or tar. */
  static String problemOf(Path file) throws IOException {
    byte[] head = new byte[512];
    int n;
    try (InputStream in = Files.newInputStream(file)) {
      n = in.readNBytes(head, 0, head.length);
    }
    if (n >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
      return null;
    }
    if (n >= 4
        && (head[0] & 0xff) == 0x28
        && (head[1] & 0xff) == 0xb5
        && (head[2] & 0xff) == 0x2f
        && (head[3] & 0xff) == 0xfd) {
      return file + " is already zstd: nothing to convert";
    }
    if (n == 512 && isTarHeader(head)) {
      return null;
    }
    return file
        + " is neither a gzip nor a tar layer ("
        + (n == 0 ? "empty file" : "first bytes " + hex(head, Math.min(n, 8)))
        + ")";
  }

  /** POSIX tar: the sum of the header's bytes, the checksum field counted as spaces. */
  static boolean isTarHeader(byte[] block) {
    String field = new String(block, 148, 8, StandardCharsets.US_ASCII).replace('\0', ' ').trim();
    if (field.isEmpty() || !field.chars().allMatch(c -> c >= '0' && c <= '7')) {
      return false;
    }
    long expected = Long.parseLong(field, 8);
    long sum = 0;
    for (int i = 0; i < 512; i++) {
      sum += (i >= 148 && i < 156) ? ' ' : (block[i] & 0xff);
    }
    return sum == expected;
  }

  private static String hex(byte[] bytes, int n) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      s.append(String.format("%02x", bytes[i] & 0xff));
    }
    return s.toString();
  }
}
