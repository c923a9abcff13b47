package io.transship.server.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code WWW-Authenticate} parsing, RFC 9110 section 11.6.1. */
class AuthChallengeTest {

  private static AuthChallenge parse(String header) {
    Optional<AuthChallenge> challenge = AuthChallenge.parse(header);
    assertThat(challenge).isPresent();
    return challenge.get();
  }

  @Test
  void dockerHubBearerChallenge() {
    AuthChallenge challenge =
        parse(
            "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                + "scope=\"repository:library/alpine:pull\"");

    assertThat(challenge.scheme()).isEqualTo("bearer");
    assertThat(challenge.isBearer()).isTrue();
    assertThat(challenge.isBasic()).isFalse();
    assertThat(challenge.params())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "realm", "https://auth.docker.io/token",
                "service", "registry.docker.io",
                "scope", "repository:library/alpine:pull"));
  }

  @Test
  void quotedCommaInsideScopeDoesNotSplitTheValue() {
    AuthChallenge challenge =
        parse(
            "Bearer realm=\"https://ghcr.io/token\",scope=\"repository:a:pull,push\","
                + "service=\"ghcr.io\"");

    assertThat(challenge.param("scope")).isEqualTo("repository:a:pull,push");
    assertThat(challenge.param("service")).isEqualTo("ghcr.io");
    assertThat(challenge.param("realm")).isEqualTo("https://ghcr.io/token");
  }

  @Test
  void escapedQuotesAndBackslashesAreUnescaped() {
    AuthChallenge challenge =
        parse("Bearer realm=\"https://a/token\",error_description=\"say \\\"hi\\\" \\\\ bye\"");

    assertThat(challenge.param("error_description")).isEqualTo("say \"hi\" \\ bye");
    assertThat(challenge.param("realm")).isEqualTo("https://a/token");
  }

  @Test
  void basicChallengeWithRealmContainingSpaces() {
    AuthChallenge challenge = parse("Basic realm=\"Registry Realm\"");

    assertThat(challenge.isBasic()).isTrue();
    assertThat(challenge.isBearer()).isFalse();
    assertThat(challenge.params()).containsExactlyEntriesOf(Map.of("realm", "Registry Realm"));
  }

  @Test
  void unquotedValuesAreAccepted() {
    AuthChallenge challenge =
        parse("Bearer realm=https://auth.example/token?x=1, service=registry.example");

    assertThat(challenge.param("realm")).isEqualTo("https://auth.example/token?x=1");
    assertThat(challenge.param("service")).isEqualTo("registry.example");
  }

  @Test
  void schemeAndParameterNamesAreCaseInsensitive() {
    AuthChallenge challenge = parse("BEARER Realm=\"https://a/token\", SERVICE=\"s\"");

    assertThat(challenge.isBearer()).isTrue();
    assertThat(challenge.param("realm")).isEqualTo("https://a/token");
    assertThat(challenge.param("service")).isEqualTo("s");
  }

  @Test
  void whitespaceAroundSeparatorsIsTolerated() {
    AuthChallenge challenge = parse("  Bearer   realm=\"r\" ,  service=\"s\"  ");

    assertThat(challenge.params())
        .containsExactlyInAnyOrderEntriesOf(Map.of("realm", "r", "service", "s"));
  }

  @Test
  void onlyTheFirstOfSeveralChallengesIsParsed() {
    AuthChallenge challenge = parse("Bearer realm=\"https://a/token\", Basic realm=\"other\"");

    assertThat(challenge.isBearer()).isTrue();
    assertThat(challenge.params()).containsExactlyEntriesOf(Map.of("realm", "https://a/token"));
  }

  @Test
  void schemeWithoutParameters() {
    AuthChallenge challenge = parse("Basic");

    assertThat(challenge.isBasic()).isTrue();
    assertThat(challenge.params()).isEmpty();
  }

  @ParameterizedTest
  @NullAndEmptySource
  @ValueSource(strings = {"   ", "\t"})
  void missingOrBlankHeaderGivesNoChallenge(String header) {
    assertThat(AuthChallenge.parse(header)).isEmpty();
  }
}
