package io.transship.server.logging;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogTextTest {
  @Test
  void controlBytesQuotesAndBackslashesCanNotLeaveTheirField() {
    String hostile = "curl\"; status=200 \u0000\u001b[31mred\r\nforged line\\";

    String escaped = LogText.escape(hostile);

    assertThat(escaped.chars()).noneMatch(c -> c < 0x20 || c == 0x7f);
    assertThat(escaped)
        .isEqualTo("curl\\\"; status=200 \\x00\\x1b[31mred\\x0d\\x0aforged line\\\\");
  }

  @Test
  void ordinaryValuesAreUnchangedAndNullIsADash() {
    assertThat(LogText.escape("containerd/1.7.2 (linux; amd64)"))
        .isEqualTo("containerd/1.7.2 (linux; amd64)");
    assertThat(LogText.escape("ünïcode ✓")).isEqualTo("ünïcode ✓");
    assertThat(LogText.escape(null)).isEqualTo("-");
  }

  @Test
  void overlongValuesAreCut() {
    String escaped = LogText.escape("a".repeat(10_000));

    assertThat(escaped).hasSizeLessThan(LogText.MAX_LENGTH + 40).endsWith("(10000 chars)");
  }
}
