package io.transship.server.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.transship.server.config.EdgeConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class AccessRulesTest {
  final AccessRules rules =
      new AccessRules(
          List.of(
              new EdgeConfig.AccessRule(List.of("alice"), List.of("ghcr.io/myorg/**")),
              new EdgeConfig.AccessRule(
                  List.of("anonymous", "bob"), List.of("docker.io/library/*")),
              new EdgeConfig.AccessRule(List.of("authenticated"), List.of("quay.io/pub/?ool"))));

  @Test
  void oneStarStaysInsideASegmentTwoStarsCrossThem() {
    assertThat(rules.allows("alice", "ghcr.io/myorg/app")).isTrue();
    assertThat(rules.allows("alice", "ghcr.io/myorg/team/app")).isTrue();
    assertThat(rules.allows("alice", "ghcr.io/myorgx/app")).isFalse();
    assertThat(rules.allows("bob", "docker.io/library/alpine")).isTrue();
    assertThat(rules.allows("bob", "docker.io/library/a/b")).isFalse();
    assertThat(rules.allows("bob", "docker.io/libraryx")).isFalse();
  }

  @Test
  void anonymousAndAuthenticatedArePseudoUsers() {
    assertThat(rules.allows(null, "docker.io/library/alpine")).isTrue();
    assertThat(rules.allows(null, "quay.io/pub/tool")).isFalse();
    assertThat(rules.allows("carol", "quay.io/pub/tool")).isTrue();
    assertThat(rules.allows("carol", "docker.io/library/alpine")).isFalse();
    assertThat(rules.anonymousAllowedSomewhere()).isTrue();
  }

  @Test
  void theAliasIsMatchedLiterallyNotAsARegex() {
    assertThat(rules.allows("alice", "ghcrxio/myorg/app")).isFalse();
  }

  @Test
  void nothingIsAllowedWithoutARule() {
    AccessRules none = new AccessRules(List.of());
    assertThat(none.allows("alice", "docker.io/library/alpine")).isFalse();
    assertThat(none.allows(null, "docker.io/library/alpine")).isFalse();
    assertThat(none.anonymousAllowedSomewhere()).isFalse();
  }
}
