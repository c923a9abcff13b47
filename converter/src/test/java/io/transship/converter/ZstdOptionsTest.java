package io.transship.converter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ZstdOptionsTest {

  @Test
  void defaultsAreLevel3WithUpTo4Workers() {
    ZstdOptions defaults = ZstdOptions.defaults();
    assertThat(defaults.level()).isEqualTo(3);
    assertThat(defaults.workers())
        .isBetween(1, 4)
        .isEqualTo(Math.min(4, Runtime.getRuntime().availableProcessors()));
    assertThat(defaults.settingsKey()).isEqualTo("zstd-l3");
  }

  @Test
  void theSettingsKeyIgnoresTheWorkerCount() {
    assertThat(new ZstdOptions(7, 1).settingsKey())
        .isEqualTo(new ZstdOptions(7, 16).settingsKey())
        .isEqualTo("zstd-l7");
    assertThat(new ZstdOptions(7, 1).settingsKey())
        .isNotEqualTo(new ZstdOptions(8, 1).settingsKey());
  }

  @Test
  void acceptsTheWholeLevelRange() {
    assertThat(new ZstdOptions(1, 1).level()).isEqualTo(1);
    assertThat(new ZstdOptions(22, 1).level()).isEqualTo(22);
  }

  @Test
  void rejectsLevelsOutsideOneToTwentyTwo() {
    assertThatThrownBy(() -> new ZstdOptions(0, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("level");
    assertThatThrownBy(() -> new ZstdOptions(-5, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ZstdOptions(23, 1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void rejectsFewerThanOneWorker() {
    assertThatThrownBy(() -> new ZstdOptions(3, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("workers");
    assertThatThrownBy(() -> new ZstdOptions(3, -1)).isInstanceOf(IllegalArgumentException.class);
  }
}
