package io.transship.converter;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** Builds layer tars like real images have, and gzips them the way registries serve them. */
final class TestTars {
  private static final FileTime MTIME = FileTime.from(Instant.parse("2024-05-01T12:00:00Z"));
  private static final String[] WORDS = {
    "layer",
    "manifest",
    "digest",
    "registry",
    "blob",
    "zstd",
    "gzip",
    "config",
    "index",
    "platform",
    "linux",
    "amd64",
    "arm64",
    "usr",
    "lib",
    "bin",
    "share",
    "doc",
    "the",
    "of",
  };

  private TestTars() {}

  /**
   * A tar of about {@code randomBytes + textBytes} bytes: directories, a random (incompressible)
   * file, a compressible text file, a symlink, a hardlink, a name over 100 characters (a PAX {@code
   * path} record), a non-ASCII name, an xattr and a uid too big for the ustar header.
   */
  static byte[] layerTar(long seed, int randomBytes, int textBytes) {
    Random random = new Random(seed);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(randomBytes + textBytes + (1 << 16));
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
      tar.setAddPaxHeadersForNonAsciiNames(true);

      directory(tar, "usr/");
      directory(tar, "usr/lib/");
      directory(tar, "usr/share/doc/");
      byte[] binary = new byte[randomBytes];
      random.nextBytes(binary);
      file(tar, "usr/lib/libdemo.so.1.2.3", binary);
      file(tar, "usr/share/doc/words.txt", text(random, textBytes));

      TarArchiveEntry symlink = new TarArchiveEntry("usr/lib/libdemo.so", TarConstants.LF_SYMLINK);
      symlink.setLinkName("libdemo.so.1.2.3");
      symlink.setLastModifiedTime(MTIME);
      tar.putArchiveEntry(symlink);
      tar.closeArchiveEntry();

      TarArchiveEntry hardlink =
          new TarArchiveEntry("usr/lib/libdemo-copy.so", TarConstants.LF_LINK);
      hardlink.setLinkName("usr/lib/libdemo.so.1.2.3");
      hardlink.setLastModifiedTime(MTIME);
      tar.putArchiveEntry(hardlink);
      tar.closeArchiveEntry();

      String longName = "usr/share/" + "a-rather-long-directory-name/".repeat(5) + "deep-file.txt";
      file(tar, longName, "deep\n".getBytes(StandardCharsets.UTF_8));
      file(
          tar,
          "usr/share/doc/caf\u00e9-na\u00efve.txt",
          "unicode\n".getBytes(StandardCharsets.UTF_8));

      TarArchiveEntry withPax = new TarArchiveEntry("usr/lib/capable");
      withPax.setLastModifiedTime(MTIME);
      withPax.setSize(4);
      withPax.setUserId(3_000_000); // beyond the 7 octal digits of ustar: a PAX uid record
      withPax.addPaxHeader("SCHILY.xattr.security.capability", "cap_net_bind_service+ep");
      tar.putArchiveEntry(withPax);
      tar.write(new byte[] {1, 2, 3, 4});
      tar.closeArchiveEntry();
      tar.finish();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** One gzip member, as {@code docker push} writes. */
  static byte[] gzip(byte[] data) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(bytes, 1 << 16)) {
      gzip.write(data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Two gzip members concatenated (RFC 1952 2.2), the data split at {@code at}. */
  static byte[] gzipTwoMembers(byte[] data, int at) {
    byte[] first = gzip(Arrays.copyOfRange(data, 0, at));
    byte[] second = gzip(Arrays.copyOfRange(data, at, data.length));
    byte[] both = Arrays.copyOf(first, first.length + second.length);
    System.arraycopy(second, 0, both, first.length, second.length);
    return both;
  }

  private static byte[] text(Random random, int size) {
    StringBuilder text = new StringBuilder(size + 32);
    int line = 0;
    while (text.length() < size) {
      text.append(line++).append(": ");
      for (int i = 0; i < 8; i++) {
        text.append(WORDS[random.nextInt(WORDS.length)]).append(' ');
      }
      text.append('\n');
    }
    return text.substring(0, size).getBytes(StandardCharsets.US_ASCII);
  }

  private static void directory(TarArchiveOutputStream tar, String name) throws IOException {
    TarArchiveEntry entry = new TarArchiveEntry(name);
    entry.setLastModifiedTime(MTIME);
    tar.putArchiveEntry(entry);
    tar.closeArchiveEntry();
  }

  private static void file(TarArchiveOutputStream tar, String name, byte[] content)
      throws IOException {
    TarArchiveEntry entry = new TarArchiveEntry(name);
    entry.setLastModifiedTime(MTIME);
    entry.setMode(0644);
    entry.setSize(content.length);
    tar.putArchiveEntry(entry);
    tar.write(content);
    tar.closeArchiveEntry();
  }
}
