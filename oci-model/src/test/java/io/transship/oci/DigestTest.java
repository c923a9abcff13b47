package io.transship.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DigestTest {

  private static final String ABC_SHA256 =
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  private static final String ABC_SHA512 =
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
          + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

  @Test
  void parsesAValidSha256Digest() {
    Digest digest = Digest.parse("sha256:" + ABC_SHA256);

    assertThat(digest.algorithm()).isEqualTo("sha256");
    assertThat(digest.encoded()).isEqualTo(ABC_SHA256);
    assertThat(digest).hasToString("sha256:" + ABC_SHA256);
  }

  @Test
  void parsesAValidSha512Digest() {
    Digest digest = Digest.parse("sha512:" + ABC_SHA512);

    assertThat(digest.algorithm()).isEqualTo("sha512");
    assertThat(digest.encoded()).isEqualTo(ABC_SHA512);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "sha256:totallywrong",
        // uppercase hex
        "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
        // 63 characters
        "sha256:a7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        // 65 characters
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0",
        // a sha256-length value under sha512
        "sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        // unknown algorithm with a plausible encoding
        "md5:900150983cd24fb0d6963f7d28e17f72",
        "sha384:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        // uppercase algorithm
        "SHA256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "sha256:",
        ":ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "",
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a!"
      })
  void rejectsMalformedDigestsWithDigestInvalid(String text) {
    assertThatThrownBy(() -> Digest.parse(text))
        .isInstanceOfSatisfying(
            RegistryException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.DIGEST_INVALID);
              assertThat(e.code().httpStatus()).isEqualTo(400);
            });
  }

  @Test
  void rejectsNullWithDigestInvalid() {
    assertThatThrownBy(() -> Digest.parse(null))
        .isInstanceOfSatisfying(
            RegistryException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DIGEST_INVALID));
  }

  @Test
  void rejectsOverlongInputWithDigestInvalid() {
    String text = "sha256:" + "a".repeat(300);

    assertThatThrownBy(() -> Digest.parse(text))
        .isInstanceOfSatisfying(
            RegistryException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.DIGEST_INVALID));
  }

  @Test
  void sha256OfAbcIsTheFips180Vector() {
    Digest digest = Digest.sha256("abc".getBytes(StandardCharsets.US_ASCII));

    assertThat(digest).isEqualTo(new Digest("sha256", ABC_SHA256));
  }

  @Test
  void sha256OfEmptyInputIsTheWellKnownEmptyDigest() {
    assertThat(Digest.sha256(new byte[0]))
        .hasToString("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  }

  @Test
  void matchesAcceptsTheHashOfTheContentAndRejectsOthers() {
    Digest digest = Digest.parse("sha256:" + ABC_SHA256);
    byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
    byte[] abd = "abd".getBytes(StandardCharsets.US_ASCII);

    assertThat(digest.matches(digest.newHasher().digest(abc))).isTrue();
    assertThat(digest.matches(digest.newHasher().digest(abd))).isFalse();
  }

  @Test
  void sha512HasherMatchesSha512Digest() {
    Digest digest = Digest.parse("sha512:" + ABC_SHA512);

    assertThat(digest.newHasher().getAlgorithm()).isEqualTo("SHA-512");
    assertThat(digest.matches(digest.newHasher().digest("abc".getBytes(StandardCharsets.US_ASCII))))
        .isTrue();
  }

  @Test
  void ofSha256EncodesARawHashAsLowercaseHex() {
    byte[] hash = Digest.newSha256().digest("abc".getBytes(StandardCharsets.US_ASCII));

    assertThat(Digest.ofSha256(hash)).hasToString("sha256:" + ABC_SHA256);
  }

  @Test
  void looksLikeDigestDistinguishesDigestsFromTags() {
    assertThat(Digest.looksLikeDigest("sha256:abc")).isTrue();
    assertThat(Digest.looksLikeDigest("latest")).isFalse();
    assertThat(Digest.looksLikeDigest(":latest")).isFalse();
  }

  @Test
  void constructorRejectsAnUnsupportedAlgorithm() {
    assertThatThrownBy(() -> new Digest("md5", "900150983cd24fb0d6963f7d28e17f72"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void digestsCompareByTheirTextualForm() {
    Digest low = Digest.parse("sha256:" + "0".repeat(64));
    Digest high = Digest.parse("sha256:" + "f".repeat(64));

    assertThat(low).isLessThan(high);
    assertThat(low.compareTo(Digest.parse("sha256:" + "0".repeat(64)))).isZero();
  }
}
