package io.transship.converter;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.transship.oci.Digest;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class ImageConfigTest {
  private static final String A = "sha256:" + "a1".repeat(32);
  private static final String B = "sha256:" + "b2".repeat(32);

  @Test
  void readsTheDiffIdsInLayerOrder() throws IOException {
    String config =
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\"]},"
            + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\""
            + A
            + "\",\""
            + B
            + "\"]},\"history\":[{\"created_by\":\"x\"}]}";

    assertThat(ImageConfig.diffIds(config.getBytes(UTF_8)))
        .containsExactly(Digest.parse(A), Digest.parse(B));
  }

  @Test
  void anEmptyListIsAnImageWithoutLayers() throws IOException {
    assertThat(
            ImageConfig.diffIds(
                "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}".getBytes(UTF_8)))
        .isEmpty();
  }

  @Test
  void aMissingListIsAnError() {
    assertFails("{\"architecture\":\"amd64\"}", "no rootfs.diff_ids list");
    assertFails("{\"rootfs\":{\"type\":\"layers\"}}", "no rootfs.diff_ids list");
    assertFails("{\"rootfs\":{\"diff_ids\":\"" + A + "\"}}", "no rootfs.diff_ids list");
    assertFails("{\"rootfs\":{\"diff_ids\":null}}", "no rootfs.diff_ids list");
    assertFails("[]", "no rootfs.diff_ids list");
  }

  @Test
  void aBadEntryIsAnError() {
    assertFails("{\"rootfs\":{\"diff_ids\":[\"" + A + "\",42]}}", "rootfs.diff_ids[1]");
    assertFails("{\"rootfs\":{\"diff_ids\":[\"sha256:short\"]}}", "rootfs.diff_ids[0]");
    assertFails(
        "{\"rootfs\":{\"diff_ids\":[\"md5:" + "ab".repeat(16) + "\"]}}", "not a valid digest");
  }

  @Test
  void somethingThatIsNotJsonIsAnError() {
    assertFails("not json", "not valid JSON");
    assertFails("", "not valid JSON");
    assertFails("{\"rootfs\":{\"diff_ids\":[]}} trailing", "not valid JSON");
    assertFails("{\"rootfs\":{\"diff_ids\":[]},\"rootfs\":{\"diff_ids\":[]}}", "not valid JSON");
  }

  private static void assertFails(String config, String message) {
    assertThatThrownBy(() -> ImageConfig.diffIds(config.getBytes(UTF_8)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(message);
  }
}
