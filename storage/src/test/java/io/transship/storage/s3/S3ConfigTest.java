package io.transship.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class S3ConfigTest {

  private static S3Config withPrefix(String prefix) {
    return S3Config.aws("bucket", prefix, "eu-west-1");
  }

  @Test
  void prefixIsNormalizedToEndWithASlash() {
    assertThat(withPrefix(null).prefix()).isEmpty();
    assertThat(withPrefix("").prefix()).isEmpty();
    assertThat(withPrefix("cache").prefix()).isEqualTo("cache/");
    assertThat(withPrefix("a/b/").prefix()).isEqualTo("a/b/");
    assertThat(withPrefix("a/b//").prefix()).isEqualTo("a/b/");
  }

  @Test
  void badPrefixesAreRejected() {
    for (String bad : new String[] {"/", "/abs", "a//b", "../up", ".hidden", "a\\b"}) {
      assertThatThrownBy(() -> withPrefix(bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("prefix");
    }
  }

  @Test
  void defaultsAndBounds() {
    S3Config config = withPrefix("");
    assertThat(config.partSize()).isEqualTo(16L * 1024 * 1024);
    assertThat(config.presignExpiry()).isEqualTo(Duration.ofMinutes(15));
    assertThat(config.hasStaticCredentials()).isFalse();
    assertThat(config.endpoint()).isNull();
    assertThatThrownBy(() -> config.withPartSize(5L * 1024 * 1024 - 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("part size");
    assertThat(config.withPartSize(5L * 1024 * 1024).partSize()).isEqualTo(5L * 1024 * 1024);
    assertThatThrownBy(() -> S3Config.aws(" ", "", null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> new S3Config("b", "", null, null, false, null, null, 0, Duration.ofDays(8)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() ->
            new S3Config("b", "", null, URI.create("localhost:9000"), true, null, null, 0, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("endpoint");
  }

  @Test
  void credentialsComeInPairs() {
    assertThatThrownBy(() -> new S3Config("b", "", null, null, false, "AKIA", null, 0, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("together");
    assertThatThrownBy(() -> new S3Config("b", "", null, null, false, null, "secret", 0, null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(new S3Config("b", "", null, null, false, "", "", 0, null).hasStaticCredentials())
        .isFalse();
  }

  @Test
  void toStringNeverShowsTheSecret() {
    S3Config config =
        new S3Config(
            "bucket",
            "p",
            "us-east-1",
            URI.create("http://minio:9000"),
            true,
            "AKIAEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            0,
            null);
    assertThat(config.toString())
        .doesNotContain("wJalrXUtnFEMI")
        .doesNotContain("AKIAEXAMPLE")
        .contains("bucket=bucket", "prefix=p/", "endpoint=http://minio:9000", "credentials=static");
  }
}
