package io.transship.converter;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.transship.oci.Digest;
import io.transship.oci.ManifestDocument;
import io.transship.oci.MediaTypes;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Golden files in {@code src/test/resources/golden}: {@code NAME.input.json} is what the upstream
 * serves, {@code NAME.expected.json} the exact bytes the proxy must produce (written by hand from
 * the rules, not captured from the code).
 */
class ManifestRewriterTest {

  @Test
  void dockerSchema2BecomesAnOciManifest() {
    ManifestDocument source = document("docker-schema2.input.json", MediaTypes.DOCKER_MANIFEST);

    byte[] rewritten =
        ManifestRewriter.rewriteImage(
            source,
            Map.of(
                digest("a1"),
                new LayerReplacement(MediaTypes.OCI_LAYER_ZSTD, digest("7a"), 3_400_000, Map.of())),
            null,
            0,
            "zstd-l3");

    assertGolden(rewritten, "docker-schema2.expected.json");
  }

  @Test
  void ociManifestWithMixedLayersReplacesOnlyTheConvertedOne() {
    ManifestDocument source = document("oci-mixed.input.json", MediaTypes.OCI_MANIFEST);
    Map<String, String> estargz = new LinkedHashMap<>();
    estargz.put("io.example.build", "new");
    estargz.put("io.containers.estargz.uncompressed-size", "81234567");
    estargz.put(LayerRules.ESTARGZ_TOC_ANNOTATION, digest("70").toString());

    byte[] rewritten =
        ManifestRewriter.rewriteImage(
            source,
            Map.of(
                digest("b1"),
                new LayerReplacement(MediaTypes.OCI_LAYER_GZIP, digest("9b"), 30_001_234, estargz)),
            digest("c3"),
            2300,
            "estargz");

    assertGolden(rewritten, "oci-mixed.expected.json");
  }

  @Test
  void ociManifestWithoutMediaTypeGetsOneAfterSchemaVersion() {
    // umoci-style: no mediaType field and served without a useful Content-Type
    ManifestDocument source = document("oci-no-mediatype.input.json", null);
    assertThat(source.mediaType()).isEqualTo(MediaTypes.OCI_MANIFEST);

    byte[] rewritten =
        ManifestRewriter.rewriteImage(
            source,
            Map.of(
                digest("e1"),
                new LayerReplacement(MediaTypes.OCI_LAYER_ZSTD, digest("7e"), 1900, null)),
            null,
            0,
            "zstd-l3");

    assertGolden(rewritten, "oci-no-mediatype.expected.json");
  }

  @Test
  void dockerManifestListBecomesAnOciIndexLeavingAttestationsAlone() {
    ManifestDocument source = document("docker-list.input.json", MediaTypes.DOCKER_MANIFEST_LIST);
    ManifestDocument amd64 = document("docker-list.child-amd64.json", null);
    ManifestDocument arm64 = document("docker-list.child-arm64.json", null);

    byte[] rewritten =
        ManifestRewriter.rewriteIndex(
            source, Map.of(digest("d1"), amd64, digest("d2"), arm64), "zstd-l3");

    assertGolden(rewritten, "docker-list.expected.json");
    JsonNode attestation = ManifestDocument.of(rewritten, null).json().path("manifests").get(3);
    assertThat(LayerRules.isAttestationChild(attestation)).isTrue();
  }

  @Test
  void rewritingIsDeterministic() {
    ManifestDocument source = document("oci-mixed.input.json", null);
    Map<Digest, LayerReplacement> layers =
        Map.of(
            digest("b1"),
            new LayerReplacement(
                MediaTypes.OCI_LAYER_ZSTD,
                digest("9b"),
                1,
                Map.of("k1", "1", "k2", "2", "k3", "3")));

    byte[] first = ManifestRewriter.rewriteImage(source, layers, null, 0, "zstd-l3");
    byte[] second = ManifestRewriter.rewriteImage(source, layers, null, 0, "zstd-l3");

    assertThat(first).isEqualTo(second);
    assertThat(new String(first, UTF_8)).contains("\"k1\":\"1\",\"k2\":\"2\",\"k3\":\"3\"");
  }

  @Test
  void theResultIsAnOciManifestClientsCanRead() {
    ManifestDocument source = document("docker-schema2.input.json", null);
    byte[] rewritten = ManifestRewriter.rewriteImage(source, Map.of(), null, 0, "zstd-l3");

    ManifestDocument result = ManifestDocument.of(rewritten, null);
    assertThat(result.mediaType()).isEqualTo(MediaTypes.OCI_MANIFEST);
    assertThat(
            result
                .json()
                .path("annotations")
                .path(ManifestRewriter.SOURCE_DIGEST_ANNOTATION)
                .asText())
        .isEqualTo(source.digest().toString());
    assertThat(result.json().path("annotations").path(ManifestRewriter.FORMAT_ANNOTATION).asText())
        .isEqualTo("zstd-l3");
  }

  @Test
  void aReplacementForAnAbsentLayerIsIgnored() {
    ManifestDocument source = document("oci-no-mediatype.input.json", null);
    byte[] rewritten =
        ManifestRewriter.rewriteImage(
            source,
            Map.of(
                digest("99"),
                new LayerReplacement(MediaTypes.OCI_LAYER_ZSTD, digest("7e"), 1, null)),
            null,
            0,
            "zstd-l3");

    assertThat(new String(rewritten, UTF_8))
        .contains(digest("e1").toString())
        .doesNotContain(digest("7e").toString());
  }

  @Test
  void nonAsciiAndDecimalsSurviveUnchanged() {
    String json =
        "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
            + "\"digest\":\""
            + digest("c1")
            + "\",\"size\":1},\"layers\":[],"
            + "\"x-note\":\"caf\u00e9 \u2603 </script>\",\"x-ratio\":1.50,\"x-big\":12345678901234567890}";
    byte[] rewritten =
        ManifestRewriter.rewriteImage(
            ManifestDocument.of(json.getBytes(UTF_8), null), Map.of(), null, 0, "zstd-l3");

    assertThat(new String(rewritten, UTF_8))
        .contains("\"x-note\":\"caf\u00e9 \u2603 </script>\"")
        .contains("\"x-ratio\":1.50")
        .contains("\"x-big\":12345678901234567890");
  }

  @Test
  void rejectsWhatIsNotAnImageManifest() {
    ManifestDocument index = document("docker-list.input.json", null);
    assertThatThrownBy(() -> ManifestRewriter.rewriteImage(index, Map.of(), null, 0, "zstd-l3"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not an image manifest");

    ManifestDocument noLayers =
        ManifestDocument.of(
            ("{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\""
                    + digest("c1")
                    + "\",\"size\":1}}")
                .getBytes(UTF_8),
            MediaTypes.OCI_MANIFEST);
    assertThatThrownBy(() -> ManifestRewriter.rewriteImage(noLayers, Map.of(), null, 0, "zstd-l3"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("layers");

    ManifestDocument noConfig =
        ManifestDocument.of(
            "{\"schemaVersion\":2,\"layers\":[]}".getBytes(UTF_8), MediaTypes.OCI_MANIFEST);
    assertThatThrownBy(() -> ManifestRewriter.rewriteImage(noConfig, Map.of(), null, 0, "zstd-l3"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("config");
  }

  @Test
  void rejectsWhatIsNotAnIndex() {
    ManifestDocument manifest = document("oci-mixed.input.json", null);
    assertThatThrownBy(() -> ManifestRewriter.rewriteIndex(manifest, Map.of(), "zstd-l3"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not an index");
  }

  @Test
  void rejectsDuplicateKeys() {
    // Two parsers could pick different "layers"; the proxy must not sign off on either.
    String json =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
            + "\"config\":{\"mediaType\":\"x\",\"digest\":\""
            + digest("c1")
            + "\",\"size\":1},\"layers\":[],\"layers\":[]}";
    ManifestDocument duplicate = ManifestDocument.of(json.getBytes(UTF_8), null);

    assertThatThrownBy(() -> ManifestRewriter.rewriteImage(duplicate, Map.of(), null, 0, "zstd-l3"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Duplicate");
  }

  @Test
  void rejectsAMissingFormat() {
    ManifestDocument source = document("oci-mixed.input.json", null);
    assertThatThrownBy(() -> ManifestRewriter.rewriteImage(source, Map.of(), null, 0, " "))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ManifestRewriter.rewriteIndex(source, Map.of(), null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void ociIndexKeepsItsAnnotationsAndUnknownFields() {
    String json =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
            + "\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
            + "\"digest\":\""
            + digest("d1")
            + "\",\"size\":10,\"platform\":{\"architecture\":\"s390x\",\"os\":\"linux\"},"
            + "\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"}}],"
            + "\"annotations\":{\"org.opencontainers.image.created\":\"2024\"},\"x-extra\":[1,2]}";
    ManifestDocument child = document("docker-list.child-amd64.json", null);

    byte[] rewritten =
        ManifestRewriter.rewriteIndex(
            ManifestDocument.of(json.getBytes(UTF_8), null),
            Map.of(digest("d1"), child),
            "zstd-l3");

    assertThat(new String(rewritten, UTF_8))
        .isEqualTo(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                + "\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"digest\":\""
                + child.digest()
                + "\",\"size\":557,\"platform\":{\"architecture\":\"s390x\",\"os\":\"linux\"},"
                + "\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"}}],"
                + "\"annotations\":{\"org.opencontainers.image.created\":\"2024\","
                + "\"io.transship.source.digest\":\""
                + Digest.sha256(json.getBytes(UTF_8))
                + "\",\"io.transship.format\":\"zstd-l3\"},\"x-extra\":[1,2]}");
  }

  private static void assertGolden(byte[] actual, String expectedFile) {
    byte[] expected = resource(expectedFile);
    // compare as text first for a readable diff, then byte for byte
    assertThat(new String(actual, UTF_8)).isEqualTo(new String(expected, UTF_8));
    assertThat(actual).isEqualTo(expected);
  }

  private static ManifestDocument document(String file, String contentType) {
    return ManifestDocument.of(resource(file), contentType);
  }

  private static byte[] resource(String file) {
    try (InputStream in = ManifestRewriterTest.class.getResourceAsStream("/golden/" + file)) {
      assertThat(in).as("golden file %s", file).isNotNull();
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A sha256 digest whose hex is {@code pair} 32 times, as the golden files spell them. */
  private static Digest digest(String pair) {
    return new Digest("sha256", pair.repeat(32));
  }
}
