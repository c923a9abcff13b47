package io.transship.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.luben.zstd.ZstdInputStream;
import io.transship.oci.Digest;
import io.transship.oci.MediaTypes;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code transship convert} on a layer file and on an OCI image layout. */
class ConvertCommandTest {
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  static byte[] tar() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
      byte[] content = new byte[200_000];
      new Random(5).nextBytes(content);
      TarArchiveEntry entry = new TarArchiveEntry("data.bin");
      entry.setSize(content.length);
      tar.putArchiveEntry(entry);
      tar.write(content);
      tar.closeArchiveEntry();
    }
    return bytes.toByteArray();
  }

  static byte[] gzip(byte[] data) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(data);
    }
    return out.toByteArray();
  }

  static byte[] unzstd(Path file) throws Exception {
    try (InputStream in = new ZstdInputStream(Files.newInputStream(file))) {
      return in.readAllBytes();
    }
  }

  @Test
  void aLayerFileBecomesZstdWithTheSameTar() throws Exception {
    byte[] tar = tar();
    Path layer = Files.write(dir.resolve("layer.tar.gz"), gzip(tar));
    Path out = dir.resolve("layer.tar.zst");
    int exit = new CommandLine(new ConvertCommand()).execute(layer.toString(), out.toString());
    assertThat(exit).isZero();
    assertThat(unzstd(out)).isEqualTo(tar);
    assertThat(dir.resolve("layer.tar.zst.part")).doesNotExist();
  }

  @Test
  void aMissingInputIsAOneLineErrorNotAStackTrace() {
    int exit =
        new CommandLine(new ConvertCommand())
            .execute(dir.resolve("nope").toString(), dir.resolve("out").toString());
    assertThat(exit).isEqualTo(2);
  }

  /** An OCI layout at {@code in} with one image (tag v1) of one gzip layer of {@code tar}. */
  static Digest writeLayout(Path in, byte[] tar) throws Exception {
    byte[] layer = gzip(tar);
    Files.createDirectories(in.resolve("blobs/sha256"));
    Digest layerDigest = put(in, layer);
    byte[] config =
        ("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + Digest.sha256(tar) + "\"]}}")
            .getBytes(StandardCharsets.UTF_8);
    Digest configDigest = put(in, config);
    byte[] manifest =
        ("{\"schemaVersion\":2,\"mediaType\":\""
                + MediaTypes.OCI_MANIFEST
                + "\",\"config\":{"
                + "\"mediaType\":\""
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
    Digest manifestDigest = put(in, manifest);
    Files.writeString(in.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
    Files.writeString(
        in.resolve("index.json"),
        "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\""
            + MediaTypes.OCI_MANIFEST
            + "\",\"digest\":\""
            + manifestDigest
            + "\",\"size\":"
            + manifest.length
            + ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"}}]}");

    return manifestDigest;
  }

  @Test
  void anOciLayoutIsConvertedImageByImage() throws Exception {
    byte[] tar = tar();
    Path in = dir.resolve("in");
    Digest manifestDigest = writeLayout(in, tar);
    Files.write(in.resolve("blobs/sha256").resolve("0".repeat(64)), new byte[1000]); // unreferenced

    Path out = dir.resolve("out");
    io.transship.server.testing.CliRun run =
        io.transship.server.testing.CliRun.of("convert", in.toString(), out.toString());
    assertThat(run.exit()).as(run.err()).isZero();
    // the summary names the source manifest as "from", the converted one as "to"
    assertThat(run.out().strip())
        .startsWith("v1 " + manifestDigest.toString().substring(0, 19) + " -> sha256:");
    // not a terminal: plain progress lines, no carriage-return redraws
    assertThat(run.err()).doesNotContain("\r").contains("100%");
    JsonNode index = JSON.readTree(out.resolve("index.json").toFile());
    JsonNode entry = index.path("manifests").get(0);
    assertThat(entry.path("annotations").path("org.opencontainers.image.ref.name").asText())
        .isEqualTo("v1");
    Digest converted = Digest.parse(entry.path("digest").asText());
    byte[] convertedManifest = Files.readAllBytes(blob(out, converted));
    assertThat(Digest.sha256(convertedManifest)).isEqualTo(converted);
    JsonNode layerNode = JSON.readTree(convertedManifest).path("layers").get(0);
    assertThat(layerNode.path("mediaType").asText()).isEqualTo(MediaTypes.OCI_LAYER_ZSTD);
    Path zstdLayer = blob(out, Digest.parse(layerNode.path("digest").asText()));
    assertThat(Digest.sha256(Files.readAllBytes(zstdLayer)).toString())
        .isEqualTo(layerNode.path("digest").asText());
    assertThat(unzstd(zstdLayer)).isEqualTo(tar);
    Digest configDigest =
        Digest.parse(JSON.readTree(convertedManifest).path("config").path("digest").asText());
    assertThat(blob(out, configDigest)).exists();
    // only what index.json reaches: converted manifest and layer, config; not the gzip layer
    try (var files = Files.list(out.resolve("blobs/sha256"))) {
      assertThat(files.map(f -> f.getFileName().toString()))
          .containsExactlyInAnyOrder(
              converted.encoded(),
              layerNode.path("digest").asText().substring(7),
              configDigest.encoded());
    }
  }

  private static Digest put(Path layout, byte[] content) throws Exception {
    Digest digest = Digest.sha256(content);
    Files.write(blob(layout, digest), content);
    return digest;
  }

  private static Path blob(Path layout, Digest digest) {
    return layout.resolve("blobs/sha256").resolve(digest.encoded());
  }

  @Test
  void anOciLayoutBecomesEstargzWithAConfigOfNewDiffIds() throws Exception {
    byte[] tar = tar();
    Path in = dir.resolve("in");
    writeLayout(in, tar);
    Path out = dir.resolve("out-esgz");
    io.transship.server.testing.CliRun run =
        io.transship.server.testing.CliRun.of(
            "convert", "--format", "estargz", in.toString(), out.toString());
    assertThat(run.exit()).as(run.err()).isZero();
    JsonNode entry = JSON.readTree(out.resolve("index.json").toFile()).path("manifests").get(0);
    byte[] manifest = Files.readAllBytes(blob(out, Digest.parse(entry.path("digest").asText())));
    JsonNode json = JSON.readTree(manifest);
    JsonNode layerNode = json.path("layers").get(0);
    assertThat(layerNode.path("annotations").has("containerd.io/snapshot/stargz/toc.digest"))
        .isTrue();
    byte[] esgz = Files.readAllBytes(blob(out, Digest.parse(layerNode.path("digest").asText())));
    byte[] unpacked;
    try (InputStream gz =
        new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(esgz))) {
      unpacked = gz.readAllBytes(); // every member in turn: the new tar, TOC included
    }
    byte[] config =
        Files.readAllBytes(blob(out, Digest.parse(json.path("config").path("digest").asText())));
    assertThat(JSON.readTree(config).path("rootfs").path("diff_ids").get(0).asText())
        .isEqualTo(Digest.sha256(unpacked).toString())
        .isNotEqualTo(Digest.sha256(tar).toString());
  }

  @Test
  void anEstargzLevelOutsideGzipsRangeIsRefused() throws Exception {
    Path layer = Files.write(dir.resolve("layer.tar.gz"), gzip(tar()));
    io.transship.server.testing.CliRun run =
        io.transship.server.testing.CliRun.of(
            "convert", "--format", "estargz", "--level", "12", layer.toString(), "out");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains("--level must be between 1 and 9");
  }
}
