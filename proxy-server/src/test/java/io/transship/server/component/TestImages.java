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
}
