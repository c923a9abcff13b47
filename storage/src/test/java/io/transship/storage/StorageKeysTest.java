package io.transship.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.transship.oci.Digest;
import java.util.List;
import org.junit.jupiter.api.Test;

class StorageKeysTest {

  private static final String HEX =
      "ab0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd";
  private static final Digest DIGEST = new Digest("sha256", HEX);

  @Test
  void blobKeysFanOutByTheFirstTwoHexCharacters() {
    assertThat(StorageKeys.blob(DIGEST)).isEqualTo("blobs/sha256/ab/" + HEX);
  }

  @Test
  void manifestKeys() {
    assertThat(StorageKeys.manifest(DIGEST)).isEqualTo("manifests/sha256/" + HEX);
    assertThat(StorageKeys.manifestType(DIGEST)).isEqualTo("manifests/sha256/" + HEX + ".type");
  }

  @Test
  void repositoryLinkKeysAreRecordsPerRepositoryAndDigest() {
    String key = StorageKeys.repositoryLink("127.0.0.1:5000", "group/app", DIGEST);
    assertThat(key).isEqualTo("links/127.0.0.1%3A5000/group/app/_links/sha256/" + HEX);
    assertThat(StorageKeys.validate(key)).isEqualTo(key);
    assertThat(StorageKeys.kindOf(key)).isEqualTo(ContentKind.RECORD);
    assertThat(StorageKeys.contentDigest(key)).isEmpty();
  }

  @Test
  void tagKeysEncodeUpstreamAliases() {
    assertThat(StorageKeys.tag("docker.io", "library/nginx", "1.27-alpine"))
        .isEqualTo("tags/docker.io/library/nginx/_tags/1.27-alpine");
    assertThat(StorageKeys.tag("127.0.0.1:5000", "a/b", "latest"))
        .isEqualTo("tags/127.0.0.1%3A5000/a/b/_tags/latest");
    assertThat(StorageKeys.tagPrefix("127.0.0.1:5000", "a/b"))
        .isEqualTo("tags/127.0.0.1%3A5000/a/b/_tags/");
  }

  @Test
  void hostileNamesStillYieldSafeKeys() {
    List<String> keys =
        List.of(
            StorageKeys.tag("..", "..", ".."),
            StorageKeys.tag(".", "a/./b", "."),
            StorageKeys.tag("../../etc", "x", "passwd"),
            StorageKeys.tag("up", "..\\..\\x", ".hidden"),
            StorageKeys.tag("/abs", "r", "t"),
            StorageKeys.tag("héllo wörld", "r", "%41"));
    for (String key : keys) {
      assertThat(StorageKeys.validate(key)).isEqualTo(key);
      assertThat(key).doesNotContain("..").doesNotContain("\\").doesNotContain("//");
    }
    assertThat(keys.get(0)).isEqualTo("tags/%2E%2E/%2E%2E/_tags/%2E%2E");
    assertThat(StorageKeys.encodeSegment("a..b")).isEqualTo("a.%2Eb");
  }

  @Test
  void segmentsDecodeBackToTheirNames() {
    for (String name : List.of("127.0.0.1:5000", "..", ".x", "a/b", "héllo wörld", "%41", "v1.0")) {
      assertThat(StorageKeys.decodeSegment(StorageKeys.encodeSegment(name))).isEqualTo(name);
    }
    assertThatThrownBy(() -> StorageKeys.decodeSegment("%4"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StorageKeys.decodeSegment("%zz"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void distinctNamesGiveDistinctKeys() {
    assertThat(StorageKeys.tag("a/b", "c", "t")).isNotEqualTo(StorageKeys.tag("a", "b/c", "t"));
    assertThat(StorageKeys.tag("a", "b", "c%3A")).isNotEqualTo(StorageKeys.tag("a", "b", "c:"));
  }

  @Test
  void nestedRepositoriesDoNotCollide() {
    String parentTag = StorageKeys.tag("u", "group/app", "x");
    String nestedTag = StorageKeys.tag("u", "group/app/x", "y");
    assertThat(nestedTag).doesNotStartWith(parentTag + "/");
    assertThat(nestedTag).doesNotStartWith(StorageKeys.tagPrefix("u", "group/app"));
  }

  @Test
  void emptyNamesAreRejected() {
    assertThatThrownBy(() -> StorageKeys.tag("", "r", "t"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StorageKeys.tag("u", "a//b", "t"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StorageKeys.tag("u", "r/", "t"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StorageKeys.tag("u", "r", ""))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void validateRejectsKeysThatCouldEscapeARoot() {
    for (String bad :
        List.of(
            "",
            "/a",
            "a/",
            "a//b",
            "..",
            "a/../b",
            "a/..",
            ".",
            "./a",
            ".tmp/x",
            "a\\b",
            "C:x",
            "a\u0000b",
            "a\nb",
            "x".repeat(StorageKeys.MAX_KEY_LENGTH + 1))) {
      assertThatThrownBy(() -> StorageKeys.validate(bad))
          .as("%s", bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> StorageKeys.validate(null))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void validateAcceptsOrdinaryKeys() {
    for (String good : List.of("a", "a/b", "blobs/sha256/ab/" + HEX, "x/y.type", "a..b", "_t")) {
      assertThat(StorageKeys.validate(good)).isEqualTo(good);
    }
  }

  @Test
  void listPrefixes() {
    assertThat(StorageKeys.validatePrefix("")).isEmpty();
    assertThat(StorageKeys.validatePrefix("a/b/")).isEqualTo("a/b/");
    assertThat(StorageKeys.validatePrefix("a/b")).isEqualTo("a/b");
    for (String bad : List.of("/", "../", "a//", "/a/", ".tmp/")) {
      assertThatThrownBy(() -> StorageKeys.validatePrefix(bad))
          .as("%s", bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }
}
