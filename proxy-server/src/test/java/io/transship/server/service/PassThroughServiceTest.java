package io.transship.server.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.transship.oci.RepositoryName;
import io.transship.server.config.UpstreamConfig;
import io.transship.server.routing.RegistryRequest;
import io.transship.server.routing.Route;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code Link} header rewrite of {@code tags/list} pagination (distribution spec). */
class PassThroughServiceTest {

  private static final UpstreamConfig DOCKER =
      new UpstreamConfig(
          "docker.io",
          URI.create("https://registry-1.docker.io"),
          List.of("docker.io"),
          true,
          null,
          null,
          false,
          null,
          Duration.ofSeconds(10),
          Duration.ofSeconds(60),
          Duration.ofSeconds(60),
          3,
          "none");

  private static RegistryRequest.TagsList tags(String repository, String clientName) {
    return new RegistryRequest.TagsList(
        new Route(DOCKER, new RepositoryName(repository), clientName, null), 2, null);
  }

  @Test
  void relativeNextLinkPointsAtTheClientsName() {
    String rewritten =
        PassThroughService.rewriteLink(
            "</v2/library/alpine/tags/list?n=2&last=b>; rel=\"next\"",
            tags("library/alpine", "docker.io/alpine"));

    assertThat(rewritten).isEqualTo("</v2/docker.io/alpine/tags/list?n=2&last=b>; rel=\"next\"");
  }

  @Test
  void absoluteNextLinkBecomesARelativeLinkToTheProxy() {
    String rewritten =
        PassThroughService.rewriteLink(
            "<https://registry-1.docker.io/v2/library/alpine/tags/list?n=2&last=b>; rel=\"next\"",
            tags("library/alpine", "docker.io/alpine"));

    assertThat(rewritten).isEqualTo("</v2/docker.io/alpine/tags/list?n=2&last=b>; rel=\"next\"");
  }

  @Test
  void absoluteLinkWithAPortIsRewritten() {
    String rewritten =
        PassThroughService.rewriteLink(
            "<http://127.0.0.1:5000/v2/group/app/tags/list?last=v9&n=100>; rel=\"next\"",
            tags("group/app", "lab/group/app"));

    assertThat(rewritten).isEqualTo("</v2/lab/group/app/tags/list?last=v9&n=100>; rel=\"next\"");
  }

  @Test
  void linkWithoutQueryIsRewritten() {
    String rewritten =
        PassThroughService.rewriteLink(
            "</v2/library/alpine/tags/list>; rel=\"next\"",
            tags("library/alpine", "docker.io/alpine"));

    assertThat(rewritten).isEqualTo("</v2/docker.io/alpine/tags/list>; rel=\"next\"");
  }

  @Test
  void linkForTheSameNameIsEffectivelyUnchanged() {
    String link = "</v2/library/alpine/tags/list?n=2&last=b>; rel=\"next\"";

    assertThat(PassThroughService.rewriteLink(link, tags("library/alpine", "library/alpine")))
        .isEqualTo(link);
  }

  @Test
  void linkToAnotherRepositoryIsLeftUnchanged() {
    String link = "</v2/library/busybox/tags/list?n=2&last=b>; rel=\"next\"";

    assertThat(PassThroughService.rewriteLink(link, tags("library/alpine", "docker.io/alpine")))
        .isEqualTo(link);
  }

  @Test
  void linkToARepositoryWhoseNameMerelyContainsOursIsLeftUnchanged() {
    String link = "</v2/library/alpine-extra/tags/list?n=2>; rel=\"next\"";

    assertThat(PassThroughService.rewriteLink(link, tags("library/alpine", "docker.io/alpine")))
        .isEqualTo(link);
  }

  @Test
  void pathOutsideTheAngleBracketsIsNotRewritten() {
    String link =
        "<https://docs.example/pagination>; rel=\"help\"; title=\"/v2/library/alpine/tags/list\"";

    assertThat(PassThroughService.rewriteLink(link, tags("library/alpine", "docker.io/alpine")))
        .isEqualTo(link);
  }

  @Test
  void malformedLinkIsLeftUnchanged() {
    RegistryRequest.TagsList request = tags("library/alpine", "docker.io/alpine");

    assertThat(PassThroughService.rewriteLink("/v2/library/alpine/tags/list", request))
        .isEqualTo("/v2/library/alpine/tags/list");
    assertThat(PassThroughService.rewriteLink("</v2/library/alpine/tags/list", request))
        .isEqualTo("</v2/library/alpine/tags/list");
    assertThat(PassThroughService.rewriteLink("", request)).isEmpty();
  }
}
