package io.transship.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class TokensTest {
  final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
  final Clock clock =
      new Clock() {
        @Override
        public ZoneOffset getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
          return this;
        }

        @Override
        public Instant instant() {
          return now.get();
        }
      };
  final Tokens tokens = new Tokens(null, Duration.ofMinutes(5), clock);

  @Test
  void aTokenCarriesItsSubjectAndGrantsUntilItExpires() {
    String token = tokens.issue("alice", Set.of("docker.io/library/alpine"), now.get());
    Tokens.Grant grant = tokens.verify(token).orElseThrow();
    assertThat(grant.subject()).isEqualTo("alice");
    assertThat(grant.repositories()).containsExactly("docker.io/library/alpine");
    now.set(now.get().plus(Duration.ofMinutes(5)).minusSeconds(1));
    assertThat(tokens.verify(token)).isPresent();
    now.set(now.get().plusSeconds(1));
    assertThat(tokens.verify(token)).isEmpty();
  }

  @Test
  void anonymousTokensHaveNoSubject() {
    String token = tokens.issue(null, Set.of(), now.get());
    assertThat(tokens.verify(token).orElseThrow().subject()).isNull();
  }

  @Test
  void tamperedForeignAndMalformedTokensAreRefused() {
    String token = tokens.issue("alice", Set.of("a/b"), now.get());
    String payload = token.substring(0, token.indexOf('.'));
    String forgedClaims =
        java.util.Base64.getUrlEncoder()
            .withoutPadding()
            .encodeToString(
                "{\"sub\":\"alice\",\"iat\":0,\"exp\":99999999999,\"repos\":[\"**\"]}".getBytes());
    assertThat(tokens.verify(forgedClaims + token.substring(payload.length()))).isEmpty();
    Tokens other = new Tokens(null, Duration.ofMinutes(5), clock);
    assertThat(other.verify(token)).isEmpty();
    assertThat(tokens.verify("")).isEmpty();
    assertThat(tokens.verify("a.b.c")).isEmpty();
    assertThat(tokens.verify(payload + ".!!")).isEmpty();
  }

  @Test
  void replicasSharingTheSecretAcceptEachOthersTokens() {
    String secret = "0123456789abcdef0123456789abcdef";
    Tokens a = new Tokens(secret, Duration.ofMinutes(5), clock);
    Tokens b = new Tokens(secret, Duration.ofMinutes(5), clock);
    assertThat(b.verify(a.issue("alice", Set.of("x/y"), now.get()))).isPresent();
  }

  @Test
  void tokensIssuedInTheFutureAreRefused() {
    String token = tokens.issue("alice", Set.of(), now.get().plus(Duration.ofMinutes(2)));
    assertThat(tokens.verify(token)).isEmpty();
  }
}
