package io.transship.server.component;

import io.transship.oci.Digest;
import io.transship.oci.MediaTypes;
import io.transship.server.testing.FakeUpstream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/** Builds small but real images (tar layers, gzip, config with diff_ids) into a FakeUpstream. */
final class TestImages {
  private static final java.util.Date FIXED_TIME = new java.util.Date(1_700_000_000_000L);

  private TestImages() {}

  /** One pushed image: its manifest digest, layer tars and gzip layer digests. */
  record Image(Digest manifest, byte[] manifestBytes, List<byte[]> tars, List<Digest> layers) {}

  static byte[] tar(long seed, int files, int fileSize) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Random random = new Random(seed);
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      TarArchiveEntry dir = new TarArchiveEntry("app/");
      dir.setModTime(FIXED_TIME);
      tar.putArchiveEntry(dir);
      tar.closeArchiveEntry();
      for (int i = 0; i < files; i++) {
        byte[] content = new byte[fileSize];
        if (i % 2 == 0) {
          random.nextBytes(content);
        } else {
          for (int j = 0; j < content.length; j++) {
            content[j] = (byte) ('a' + (j % 13));
          }
        }
        TarArchiveEntry file = new TarArchiveEntry("app/file-" + seed + "-" + i + ".bin");
        file.setSize(content.length);
        file.setMode(0644);
        file.setModTime(FIXED_TIME);
        tar.putArchiveEntry(file);
        tar.write(content);
        tar.closeArchiveEntry();
      }
      TarArchiveEntry link = new TarArchiveEntry("app/link", TarArchiveEntry.LF_SYMLINK);
      link.setLinkName("file-" + seed + "-0.bin");
      link.setModTime(FIXED_TIME);
      tar.putArchiveEntry(link);
      tar.closeArchiveEntry();
    }
    return bytes.toByteArray();
  }

  static byte[] gzip(byte[] data) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
      gzip.write(data);
    }
    return out.toByteArray();
  }

  /** Pushes an image with {@code layerCount} gzip layers; {@code docker} for schema2 types. */
  static Image push(
      FakeUpstream upstream, String repo, String tag, long seed, int layerCount, boolean docker)
      throws IOException {
    List<byte[]> tars = new ArrayList<>();
    for (int i = 0; i < layerCount; i++) {
      tars.add(tar(seed * 100 + i, 4, 300_000));
    }
    return pushTars(upstream, repo, tag, tars, docker);
  }

  /** Pushes an image whose gzip layers are these tars, in order (images may share layers). */
  static Image pushTars(
      FakeUpstream upstream, String repo, String tag, List<byte[]> tars, boolean docker)
      throws IOException {
    int layerCount = tars.size();
    List<Digest> layers = new ArrayList<>();
    StringBuilder diffIds = new StringBuilder();
    StringBuilder layerJson = new StringBuilder();
    String layerType = docker ? MediaTypes.DOCKER_LAYER_GZIP : MediaTypes.OCI_LAYER_GZIP;
    for (int i = 0; i < layerCount; i++) {
      byte[] tar = tars.get(i);
      byte[] gz = gzip(tar);
      Digest digest = upstream.putBlob(gz);
      layers.add(digest);
      diffIds.append(i == 0 ? "" : ",").append('"').append(Digest.sha256(tar)).append('"');
      layerJson
          .append(i == 0 ? "" : ",")
          .append("{\"mediaType\":\"")
          .append(layerType)
          .append("\",\"digest\":\"")
          .append(digest)
          .append("\",\"size\":")
          .append(gz.length)
          .append('}');
    }
    byte[] config =
        ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},\"rootfs\":{\"type\":\"layers\","
                + "\"diff_ids\":["
                + diffIds
                + "]},\"history\":[]}")
            .getBytes(StandardCharsets.UTF_8);
    Digest configDigest = upstream.putBlob(config);
    String manifestType = docker ? MediaTypes.DOCKER_MANIFEST : MediaTypes.OCI_MANIFEST;
    String configType = docker ? MediaTypes.DOCKER_CONFIG : MediaTypes.OCI_CONFIG;
    byte[] manifest =
        ("{\"schemaVersion\":2,\"mediaType\":\""
                + manifestType
                + "\",\"config\":{\"mediaType\":\""
                + configType
                + "\",\"digest\":\""
                + configDigest
                + "\",\"size\":"
                + config.length
                + "},\"layers\":["
                + layerJson
                + "]}")
            .getBytes(StandardCharsets.UTF_8);
    Digest manifestDigest = upstream.putManifest(repo, tag, manifest, manifestType);
    return new Image(manifestDigest, manifest, tars, layers);
  }

  /**
   * A decompression bomb: a gzip tar layer whose one file is {@code mebibytes} MiB of zeros, built
   * from one 1 MiB-of-zeros gzip member repeated (RFC 1952 section 2.2 allows concatenated
   * members), so 1 GiB inflated costs about 1 MiB here.
   */
  static byte[] bombLayer(int mebibytes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(gzip(ustarHeader("bomb", (long) mebibytes << 20)));
    byte[] zeros = gzip(new byte[1 << 20]);
    for (int i = 0; i < mebibytes; i++) {
      out.write(zeros);
    }
    out.write(gzip(new byte[1024]));
    return out.toByteArray();
  }

  /** Pushes a one-layer image whose layer is {@code layer} (its config claims {@code diffId}). */
  static Digest pushSingleLayer(
      FakeUpstream upstream, String repo, String tag, byte[] layer, Digest diffId) {
    Digest layerDigest = upstream.putBlob(layer);
    byte[] config =
        ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
                + "\"diff_ids\":[\""
                + diffId
                + "\"]}}")
            .getBytes(StandardCharsets.UTF_8);
    Digest configDigest = upstream.putBlob(config);
    byte[] manifest =
        ("{\"schemaVersion\":2,\"mediaType\":\""
                + MediaTypes.OCI_MANIFEST
                + "\",\"config\":{\"mediaType\":\""
                + MediaTypes.OCI_CONFIG
                + "\",\"digest\":\""
                + configDigest
                + "\",\"size\":"
                + config.length
                + "},\"layers\":[{\"mediaType\":\""
                + MediaTypes.OCI_LAYER_GZIP
                + "\",\"digest\":\""
                + layerDigest
                + "\",\"size\":"
                + layer.length
                + "}]}")
            .getBytes(StandardCharsets.UTF_8);
    upstream.putManifest(repo, tag, manifest, MediaTypes.OCI_MANIFEST);
    return layerDigest;
  }

  /** A ustar header block of a regular file (octal size: below 8 GiB). */
  static byte[] ustarHeader(String name, long size) {
    byte[] block = new byte[512];
    put(block, 0, name);
    put(block, 100, "0000644\0");
    put(block, 108, "0000000\0");
    put(block, 116, "0000000\0");
    put(block, 124, String.format("%011o\0", size));
    put(block, 136, "00000000000\0");
    block[156] = '0';
    put(block, 257, "ustar\0");
    put(block, 263, "00");
    java.util.Arrays.fill(block, 148, 156, (byte) ' ');
    long sum = 0;
    for (byte b : block) {
      sum += b & 0xff;
    }
    put(block, 148, String.format("%06o\0 ", sum));
    return block;
  }

  private static void put(byte[] block, int offset, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(bytes, 0, block, offset, bytes.length);
  }
}
