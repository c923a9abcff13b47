package io.transship.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** Small file helpers the end-to-end tests share, unchecked so they fit in assertions. */
final class FileChecks {
  private FileChecks() {}

  /** Position of the first differing byte, or -1 when the files are equal. */
  static long mismatch(Path a, Path b) {
    try {
      return Files.mismatch(a, b);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The first {@code n} bytes (zero-padded when the file is shorter). */
  static byte[] head(Path p, int n) {
    try (InputStream in = Files.newInputStream(p)) {
      return Arrays.copyOf(in.readNBytes(n), n);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static long size(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
