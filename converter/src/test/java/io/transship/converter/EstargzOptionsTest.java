package io.transship.converter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EstargzOptionsTest {

  @Test
  void defaults() {
    EstargzOptions d = EstargzOptions.defaults();
    assertThat(d.level()).isEqualTo(EstargzOptions.DEFAULT_LEVEL);
    assertThat(d.chunkSize()).isEqualTo(4 * 1024 * 1024);
    assertThat(d.prioritizedFiles()).isEmpty();
    assertThat(d.threads()).isEqualTo(Runtime.getRuntime().availableProcessors());
  }

  @Test
  void settingsKeyNamesEverythingThatShapesTheBytesButNotTheThreads() {
    EstargzOptions a = new EstargzOptions(6, 4 << 20, List.of(), 1);
    assertThat(a.settingsKey(DeflateBackend.ZLIB)).isEqualTo("estargz1-zlib-l6-c4194304");
    assertThat(a.settingsKey(DeflateBackend.LIBDEFLATE))
        .isEqualTo("estargz1-libdeflate-l6-c4194304");
    assertThat(a.withThreads(8).settingsKey()).isEqualTo(a.settingsKey());
    assertThat(a.settingsKey()).contains(DeflateBackend.preferred().id());
    assertThat(new EstargzOptions(9, 4 << 20, List.of(), 1).settingsKey())
        .isNotEqualTo(a.settingsKey());
    assertThat(new EstargzOptions(6, 1 << 20, List.of(), 1).settingsKey())
        .isNotEqualTo(a.settingsKey());
    String withList = a.withPrioritizedFiles(List.of("bin/sh", "etc/passwd")).settingsKey();
    assertThat(withList).matches("estargz1-[a-z]+-l6-c4194304-p[0-9a-f]{16}");
    assertThat(a.withPrioritizedFiles(List.of("etc/passwd", "bin/sh")).settingsKey())
        .isNotEqualTo(withList); // order matters: it is the order in the layer
    assertThat(a.withPrioritizedFiles(List.of("bin/sh", "etc/passwd")).withThreads(3).settingsKey())
        .isEqualTo(withList);
  }

  @Test
  void rejectsNonsense() {
    assertThatThrownBy(() -> new EstargzOptions(0, 1, List.of(), 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new EstargzOptions(10, 1, List.of(), 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new EstargzOptions(6, 0, List.of(), 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new EstargzOptions(6, (64 << 20) + 1, List.of(), 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new EstargzOptions(6, 1, List.of(), 0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void copiesThePrioritizedList() {
    List<String> files = new ArrayList<>(List.of("a"));
    EstargzOptions o = new EstargzOptions(6, 1, files, 1);
    files.add("b");
    assertThat(o.prioritizedFiles()).containsExactly("a");
    assertThat(new EstargzOptions(6, 1, null, 1).prioritizedFiles()).isEmpty();
  }
}
