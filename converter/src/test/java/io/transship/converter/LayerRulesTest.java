package io.transship.converter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.transship.converter.LayerTranscoder.SourceCompression;
import io.transship.oci.MediaTypes;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LayerRulesTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String OCI_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
  private static final String DOCKER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
  private static final String OCI_TAR = "application/vnd.oci.image.layer.v1.tar";

  @Test
  void gzipLayersAreConverted() {
    assertThat(LayerRules.isConvertibleLayer(OCI_GZIP, false, Map.of(), false)).isTrue();
    assertThat(LayerRules.isConvertibleLayer(DOCKER_GZIP, false, Map.of(), false)).isTrue();
    assertThat(LayerRules.isConvertibleLayer(OCI_GZIP, false, null, false)).isTrue();
    assertThat(
            LayerRules.isConvertibleLayer(
                OCI_GZIP, false, Map.of("org.opencontainers.image.title", "x"), false))
        .isTrue();
  }

  @Test
  void layersWithUrlsAreNeverConverted() {
    assertThat(LayerRules.isConvertibleLayer(OCI_GZIP, true, Map.of(), false)).isFalse();
    assertThat(LayerRules.isConvertibleLayer(DOCKER_GZIP, true, Map.of(), true)).isFalse();
    assertThat(LayerRules.isConvertibleLayer(OCI_TAR, true, Map.of(), true)).isFalse();
  }

  @Test
  void foreignAndNonDistributableLayersAreNeverConverted() {
    for (String type :
        new String[] {
          "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
          "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
          "application/vnd.oci.image.layer.nondistributable.v1.tar",
        }) {
      assertThat(LayerRules.isConvertibleLayer(type, false, Map.of(), true)).as(type).isFalse();
    }
  }

  @Test
  void estargzLayersAreLeftAlone() {
    Map<String, String> estargz =
        Map.of("containerd.io/snapshot/stargz/toc.digest", "sha256:" + "ab".repeat(32));
    assertThat(LayerRules.isConvertibleLayer(OCI_GZIP, false, estargz, false)).isFalse();
    assertThat(LayerRules.isConvertibleLayer(DOCKER_GZIP, false, estargz, true)).isFalse();
  }

  @Test
  void zstdChunkedLayersAreLeftAlone() {
    Map<String, String> chunked =
        Map.of("io.github.containers.zstd-chunked.manifest-checksum", "sha256:" + "cd".repeat(32));
    assertThat(LayerRules.isConvertibleLayer(OCI_GZIP, false, chunked, false)).isFalse();
    assertThat(LayerRules.isConvertibleLayer(OCI_TAR, false, chunked, true)).isFalse();
  }

  @Test
  void alreadyZstdAndOtherTypesAreNotConverted() {
    for (String type :
        new String[] {
          "application/vnd.oci.image.layer.v1.tar+zstd",
          "application/vnd.oci.image.config.v1+json",
          "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
          "application/vnd.in-toto+json",
          "application/octet-stream",
          "",
        }) {
      assertThat(LayerRules.isConvertibleLayer(type, false, Map.of(), true)).as(type).isFalse();
    }
    assertThat(LayerRules.isConvertibleLayer(null, false, Map.of(), true)).isFalse();
  }

  @Test
  void uncompressedLayersOnlyWhenAskedFor() {
    assertThat(LayerRules.isConvertibleLayer(OCI_TAR, false, Map.of(), false)).isFalse();
    assertThat(LayerRules.isConvertibleLayer(OCI_TAR, false, Map.of(), true)).isTrue();
  }

  @Test
  void compressionOfLayerTypes() {
    assertThat(LayerRules.compressionOf(OCI_GZIP)).isEqualTo(SourceCompression.GZIP);
    assertThat(LayerRules.compressionOf(DOCKER_GZIP)).isEqualTo(SourceCompression.GZIP);
    assertThat(
            LayerRules.compressionOf("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"))
        .isEqualTo(SourceCompression.GZIP);
    assertThat(LayerRules.compressionOf(OCI_TAR)).isEqualTo(SourceCompression.NONE);
    assertThatThrownBy(() -> LayerRules.compressionOf(MediaTypes.OCI_LAYER_ZSTD))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(MediaTypes.OCI_LAYER_ZSTD);
    assertThatThrownBy(() -> LayerRules.compressionOf(null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void onlyContainerImageConfigsMakeAnImage() {
    assertThat(LayerRules.isImageConfig("application/vnd.oci.image.config.v1+json")).isTrue();
    assertThat(LayerRules.isImageConfig("application/vnd.docker.container.image.v1+json")).isTrue();
    for (String type :
        new String[] {
          "application/vnd.cncf.helm.config.v1+json",
          "application/vnd.oci.empty.v1+json",
          "application/vnd.dev.cosign.artifact.sig.v1+json",
          "application/vnd.docker.plugin.v1+json",
          "application/vnd.unknown.config.v1+json",
          "",
        }) {
      assertThat(LayerRules.isImageConfig(type)).as(type).isFalse();
    }
    assertThat(LayerRules.isImageConfig(null)).isFalse();
  }

  @Test
  void attestationChildrenAreRecognized() throws Exception {
    assertThat(
            LayerRules.isAttestationChild(
                json(
                    "{\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\","
                        + "\"vnd.docker.reference.digest\":\"sha256:"
                        + "ab".repeat(32)
                        + "\"}}")))
        .isTrue();
    assertThat(
            LayerRules.isAttestationChild(
                json("{\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}}")))
        .isTrue();
  }

  @Test
  void platformImagesAreNotAttestations() throws Exception {
    assertThat(
            LayerRules.isAttestationChild(
                json("{\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}")))
        .isFalse();
    assertThat(
            LayerRules.isAttestationChild(
                json("{\"platform\":{\"architecture\":\"unknown\",\"os\":\"linux\"}}")))
        .isFalse();
    assertThat(
            LayerRules.isAttestationChild(
                json("{\"annotations\":{\"vnd.docker.reference.type\":\"something-else\"}}")))
        .isFalse();
    assertThat(LayerRules.isAttestationChild(json("{}"))).isFalse();
    assertThat(LayerRules.isAttestationChild(null)).isFalse();
  }

  private static JsonNode json(String text) throws Exception {
    return JSON.readTree(text);
  }
}
