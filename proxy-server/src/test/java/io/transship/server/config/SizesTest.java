package io.transship.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SizesTest {

  @ParameterizedTest
  @CsvSource({
    "50GiB, 53687091200",
    "512MB, 512000000",
    "1024, 1024",
    "1.5KiB, 1536",
    "1kB, 1000",
    "1KiB, 1024",
    "2MiB, 2097152",
    "1TiB, 1099511627776",
    "3TB, 3000000000000",
    "1gib, 1073741824",
    "'  10 GiB ', 10737418240",
    "0, 0"
  })
  void parsesDecimalAndBinarySizes(String text, long expected) {
    assertThat(Sizes.parseBytes(text)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(strings = {"garbage", "", "GiB", "-1", "10 PB", "1,5GiB", "10GiBs", "ten"})
  void rejectsTextThatIsNotASize(String text) {
    assertThatThrownBy(() -> Sizes.parseBytes(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(text.trim().isEmpty() ? "not a size" : text);
  }

  @ParameterizedTest
  @CsvSource({
    "250ms, 250",
    "30s, 30000",
    "5m, 300000",
    "1h, 3600000",
    "1d, 86400000",
    "10, 10000",
    "1.5s, 1500",
    "2H, 7200000"
  })
  void parsesDurations(String text, long expectedMillis) {
    assertThat(Sizes.parseDuration(text)).isEqualTo(Duration.ofMillis(expectedMillis));
  }

  @ParameterizedTest
  @ValueSource(strings = {"garbage", "", "s", "5 minutes", "-5s", "5w", "PT5S"})
  void rejectsTextThatIsNotADuration(String text) {
    assertThatThrownBy(() -> Sizes.parseDuration(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a duration");
  }

  @Test
  void minutesAndMillisecondsAreNotConfused() {
    assertThat(Sizes.parseDuration("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(Sizes.parseDuration("5ms")).isEqualTo(Duration.ofMillis(5));
  }
}
