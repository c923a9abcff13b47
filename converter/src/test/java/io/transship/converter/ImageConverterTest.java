package io.transship.converter;

import static org.assertj.core.api.Assertions.assertThat;

import io.transship.oci.Digest;
import io.transship.oci.ManifestDocument;
import io.transship.oci.MediaTypes;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The image walk: plan which layers to convert, assemble the result from their outcomes. */
class ImageConverterTest {
  private static final Digest L0 = Digest.sha256(new byte[] {0});
  private static final Digest L1 = Digest.sha256(new byte[] {1});
  private static final Digest D0 = Digest.sha256(new byte[] {10});
  private static final Digest D1 = Digest.sha256(new byte[] {11});
  private static final byte[] CONFIG =
      ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\""
              + D0
              + "\",\""
              + D1
              + "\"]}}")
          .getBytes(StandardCharsets.UTF_8);
  private static final Digest CONFIG_DIGEST = Digest.sha256(CONFIG);

  private static ManifestDocument manifest(String secondLayerType) {
    String json =
        "{\"schemaVersion\":2,\"mediaType\":\""
            + MediaTypes.OCI_MANIFEST
            + "\",\"config\":{"
            + "\"mediaType\":\""
            + MediaTypes.OCI_CONFIG
            + "\",\"digest\":\""
            + CONFIG_DIGEST
            + "\",\"size\":"
            + CONFIG.length
            + "},\"layers\":["
            + "{\"mediaType\":\""
            + MediaTypes.OCI_LAYER_GZIP
            + "\",\"digest\":\""
            + L0
            + "\",\"size\":10},"
            + "{\"mediaType\":\""
            + secondLayerType
            + "\",\"digest\":\""
            + L1
            + "\",\"size\":20}]}";
    return ManifestDocument.of(json.getBytes(StandardCharsets.UTF_8), MediaTypes.OCI_MANIFEST);
  }

  private static LayerOutcome converted(Digest source, Digest newDiffId) {
    Digest blob = Digest.sha256(("converted " + source).getBytes(StandardCharsets.UTF_8));
    return new LayerOutcome.Converted(
        new LayerReplacement(MediaTypes.OCI_LAYER_ZSTD, blob, 5, Map.of()), newDiffId);
  }

  @Test
  void planListsConvertibleLayersOnly() {
    ImageConverter.Plan plan =
        ImageConverter.plan(manifest(MediaTypes.OCI_LAYER_ZSTD), false).orElseThrow();
    assertThat(plan.layers()).extracting(ImageConverter.LayerJob::digest).containsExactly(L0);
    assertThat(plan.config()).isEqualTo(CONFIG_DIGEST);
    assertThat(
            ImageConverter.plan(manifest(MediaTypes.OCI_LAYER_GZIP), false).orElseThrow().layers())
        .hasSize(2);
  }

  @Test
  void aTransientFailureMakesThePartlyConvertedResultIncomplete() {
    ImageConverter.Plan plan =
        ImageConverter.plan(manifest(MediaTypes.OCI_LAYER_GZIP), false).orElseThrow();
    ImageConverter.Result result =
        ImageConverter.assemble(
            plan,
            CONFIG,
            Map.of(L0, converted(L0, D0), L1, new LayerOutcome.Failed("503")),
            "zstd",
            false);
    assertThat(result.complete()).isFalse();
    assertThat(result.manifest()).isNotEqualTo(plan.source());
    assertThat(result.manifest().json().path("layers").get(1).path("digest").asText())
        .isEqualTo(L1.toString());
  }

  @Test
  void aPermanentlyKeptLayerStillMakesACompleteResult() {
    ImageConverter.Plan plan =
        ImageConverter.plan(manifest(MediaTypes.OCI_LAYER_GZIP), false).orElseThrow();
    ImageConverter.Result result =
        ImageConverter.assemble(
            plan,
            CONFIG,
            Map.of(L0, new LayerOutcome.Kept("sparse file"), L1, new LayerOutcome.Kept("x")),
            "zstd",
            false);
    assertThat(result.complete()).isTrue();
    assertThat(result.manifest()).isSameAs(plan.source());
    assertThat(result.problems()).hasSize(2);
  }

  @Test
  void formatsThatChangeDiffIdsGetARewrittenConfig() throws Exception {
    ImageConverter.Plan plan =
        ImageConverter.plan(manifest(MediaTypes.OCI_LAYER_GZIP), false).orElseThrow();
    Digest newDiffId = Digest.sha256(new byte[] {99});
    ImageConverter.Result result =
        ImageConverter.assemble(
            plan,
            CONFIG,
            Map.of(L0, converted(L0, newDiffId), L1, new LayerOutcome.Kept("x")),
            "estargz",
            true);
    assertThat(result.complete()).isTrue();
    assertThat(ImageConfig.diffIds(result.config())).containsExactly(newDiffId, D1);
    assertThat(result.configDigest()).isEqualTo(Digest.sha256(result.config()));
    assertThat(result.manifest().json().path("config").path("digest").asText())
        .isEqualTo(result.configDigest().toString());
  }

  @Test
  void aConfigWhoseDiffIdsDoNotMatchTheLayersKeepsTheImageWhole() {
    ImageConverter.Plan plan =
        ImageConverter.plan(manifest(MediaTypes.OCI_LAYER_GZIP), false).orElseThrow();
    byte[] oneDiffId =
        ("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + D0 + "\"]}}")
            .getBytes(StandardCharsets.UTF_8);
    ImageConverter.Result result =
        ImageConverter.assemble(
            plan, oneDiffId, Map.of(L0, converted(L0, D0), L1, converted(L1, D1)), "zstd", false);
    assertThat(result.manifest()).isSameAs(plan.source());
    assertThat(result.complete()).isTrue();
    assertThat(List.copyOf(result.problems())).hasSize(1);
  }
}
