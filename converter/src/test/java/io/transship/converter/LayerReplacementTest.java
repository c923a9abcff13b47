package io.transship.converter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.transship.oci.Digest;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LayerReplacementTest {
  private static final Digest DIGEST = new Digest("sha256", "ab".repeat(32));

  @Test
  void copiesAndSortsTheAnnotations() {
    Map<String, String> annotations = new HashMap<>(Map.of("b", "2", "a", "1"));
    LayerReplacement replacement = new LayerReplacement("t", DIGEST, 5, annotations);
    annotations.put("c", "3");

    assertThat(replacement.annotations()).containsExactly(Map.entry("a", "1"), Map.entry("b", "2"));
    assertThat(new LayerReplacement("t", DIGEST, 5, null).annotations()).isEmpty();
  }

  @Test
  void comesFromATranscodeResult() {
    TranscodeResult result =
        new TranscodeResult(ZstdTranscoder.MEDIA_TYPE, DIGEST, 42, DIGEST, DIGEST, 100, Map.of());
    assertThat(LayerReplacement.of(result))
        .isEqualTo(new LayerReplacement(ZstdTranscoder.MEDIA_TYPE, DIGEST, 42, Map.of()));
  }

  @Test
  void rejectsIncompleteDescriptors() {
    assertThatThrownBy(() -> new LayerReplacement(null, DIGEST, 1, null))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> new LayerReplacement("t", null, 1, null))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> new LayerReplacement("t", DIGEST, -1, null))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
