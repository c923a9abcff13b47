package io.transship.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The repository name grammar of the OCI distribution spec v1.1, "Pulling manifests". */
class RepositoryNameTest {

  @ParameterizedTest
  @ValueSource(
      strings = {
        "library/alpine",
        "a/b-c/d__e",
        "a.b_c",
        "alpine",
        "a",
        "0",
        "a--b",
        "a---b/c",
        "ghcr.io/org/repo",
        "a/b/c/d/e/f",
        "x1.y2_z3/q-4"
      })
  void acceptsNamesOfTheSpecGrammar(String name) {
    assertThat(RepositoryName.isValid(name)).isTrue();
    assertThat(new RepositoryName(name).value()).isEqualTo(name);
    assertThat(new RepositoryName(name)).hasToString(name);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "Library/alpine",
        "library/Alpine",
        "/library/alpine",
        "library/alpine/",
        "a//b",
        "a-",
        "a/b-",
        "-a",
        "a.",
        ".a",
        "a..b",
        "a___b",
        "a_-b",
        "a b",
        "a:b",
        "a@b",
        ""
      })
  void rejectsNamesOutsideTheGrammarWithNameInvalid(String name) {
    assertThat(RepositoryName.isValid(name)).isFalse();
    assertThatThrownBy(() -> new RepositoryName(name))
        .isInstanceOfSatisfying(
            RegistryException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.NAME_INVALID);
              assertThat(e.detail()).isEqualTo(name);
            });
  }

  @org.junit.jupiter.api.Test
  void acceptsANameOfExactly255Characters() {
    String name = "a".repeat(RepositoryName.MAX_LENGTH);

    assertThat(RepositoryName.isValid(name)).isTrue();
    assertThat(new RepositoryName(name).value()).hasSize(255);
  }

  @org.junit.jupiter.api.Test
  void rejectsANameOf256Characters() {
    String name = "a/" + "b".repeat(254);

    assertThat(name).hasSize(256);
    assertThat(RepositoryName.isValid(name)).isFalse();
    assertThatThrownBy(() -> new RepositoryName(name))
        .isInstanceOfSatisfying(
            RegistryException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NAME_INVALID));
  }

  @org.junit.jupiter.api.Test
  void rejectsNull() {
    assertThat(RepositoryName.isValid(null)).isFalse();
    assertThatThrownBy(() -> new RepositoryName(null))
        .isInstanceOfSatisfying(
            RegistryException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NAME_INVALID));
  }
}
