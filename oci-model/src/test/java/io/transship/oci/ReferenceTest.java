package io.transship.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Tags and digests in {@code /v2/<name>/manifests/<reference>}. */
class ReferenceTest {

  private static final String HEX =
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

  @ParameterizedTest
  @ValueSource(strings = {"latest", "3.20", "v1.2.3-rc.1", "_private", "A_B-c.d", "0", "x"})
  void parsesValidTags(String text) {
    Reference reference = Reference.parse(text);

    assertThat(reference).isEqualTo(new Reference.Tag(text));
    assertThat(reference).hasToString(text);
  }

  @Test
  void acceptsATagOfExactly128Characters() {
    String tag = "t" + "a".repeat(127);

    assertThat(Reference.parse(tag)).isEqualTo(new Reference.Tag(tag));
  }

  @Test
  void rejectsATagOf129CharactersAsManifestUnknown() {
    String tag = "t" + "a".repeat(128);

    assertThatThrownBy(() -> Reference.parse(tag))
        .isInstanceOfSatisfying(
            RegistryException.class,
            e -> assertThat(e.code()).isEqualTo(ErrorCode.MANIFEST_UNKNOWN));
  }

  @ParameterizedTest
  @ValueSource(strings = {".hidden", "-dash", "has space", "a/b", "ümlaut", "", "a+b", "tag!"})
  void rejectsInvalidTagsAsManifestUnknown(String text) {
    assertThatThrownBy(() -> Reference.parse(text))
        .isInstanceOfSatisfying(
            RegistryException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.MANIFEST_UNKNOWN);
              assertThat(e.detail()).isEqualTo(text);
            });
  }

  @Test
  void parsesAValidDigestAsByDigest() {
    Reference reference = Reference.parse("sha256:" + HEX);

    assertThat(reference).isEqualTo(new Reference.ByDigest(new Digest("sha256", HEX)));
    assertThat(reference).hasToString("sha256:" + HEX);
  }

  @ParameterizedTest
  @ValueSource(strings = {"sha256:abc", "sha256:totallywrong", "md5:abcdef", "latest:tag"})
  void digestLookingButMalformedReferenceIsDigestInvalid(String text) {
    assertThatThrownBy(() -> Reference.parse(text))
        .isInstanceOfSatisfying(
            RegistryException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DIGEST_INVALID));
  }
}
