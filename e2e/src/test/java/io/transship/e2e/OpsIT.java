package io.transship.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Operability against the packaged jar and a real docker-registry: the start line, the access log
 * of a skopeo pull (cache result, request id, route), {@code config check} on a real config, and a
 * second {@code serve} on a storage root in use.
 */
@Tag("e2e")
@ExtendWith(DumpLogsOnFailure.class)
class OpsIT {
  private static E2eEnv env;
  private static DockerRegistry registry;
  private static Skopeo skopeo;
  private static Transship proxy;

  @BeforeAll
  static void setUp() {
    Tools.require("skopeo", "docker-registry", "tar");
    env = E2eEnv.create("ops");
    TestImages images = TestImages.build(env);
    registry = DockerRegistry.plain(env, "lab");
    skopeo = new Skopeo(env);
    images.pushApp(skopeo, registry);
    proxy = Transship.with("lab", registry).start(env, "ops");
  }

  @AfterAll
  static void tearDown() {
    if (env != null) {
      env.close();
    }
  }

  private static Cmd transship(String... args) {
    List<String> cmd =
        new java.util.ArrayList<>(
            List.of(Tools.java().toString(), "-jar", Tools.transshipJar().toString()));
    cmd.addAll(List.of(args));
    return Cmd.of(cmd).timeout(Duration.ofMinutes(2));
  }

  @Test
  void theStartLineNamesVersionListenersStorageAndUpstreams() {
    String log = proxy.daemon().logText();
    assertThat(log.lines().filter(l -> l.contains(" ready: listen ")))
        .singleElement()
        .asString()
        .contains("transship ")
        .contains("listen 127.0.0.1:" + proxy.port())
        .contains("storage " + proxy.dataDir())
        .contains("upstreams [docker.io=https://registry-1.docker.io") // config order
        .contains("lab=" + registry.url() + " (none)], default lab")
        .contains("codecs: inflate ");
  }

  @Test
  void aSkopeoPullIsLoggedWithCacheResultRouteAndRequestId() {
    String ref = proxy.hostPort() + "/lab/" + TestImages.APP_REPO + ":v1";
    long mark = proxy.daemon().logMark();
    skopeo.inspectRaw(ref);
    skopeo.inspectRaw(ref);

    List<String> manifests =
        proxy
            .daemon()
            .logSince(mark)
            .lines()
            .filter(l -> l.contains(" route=manifest repo=lab/" + TestImages.APP_REPO + " "))
            .toList();
    assertThat(manifests)
        .as("manifest lines of two skopeo inspects")
        .hasSizeGreaterThanOrEqualTo(2);
    assertThat(manifests.getFirst())
        .contains("127.0.0.1 GET \"/v2/lab/" + TestImages.APP_REPO + "/manifests/v1\" 200 ")
        .contains(" cache=miss ")
        .containsPattern(" id=[0-9a-f]{16} ")
        .containsPattern(" upstream=\\d+ms ")
        .contains(" ua=\"");
    assertThat(manifests.getLast()).contains(" cache=hit ").contains(" upstream=- ");
  }

  @Test
  void configCheckAcceptsTheProxysConfigAndRefusesATypo() throws Exception {
    Cmd.Result ok = transship("config", "check", "--config", proxy.configFile().toString()).run();
    assertThat(ok.exitCode()).as(ok.describe()).isZero();
    assertThat(ok.stdout()).contains("lab:").contains("url: " + registry.url());

    var typo = env.dir("ops-typo").resolve("t.yaml");
    Files.writeString(typo, Files.readString(proxy.configFile()) + "defualt-upstream: lab\n");
    Cmd.Result bad = transship("config", "check", "--config", typo.toString()).run();
    assertThat(bad.exitCode()).as(bad.describe()).isEqualTo(2);
    assertThat(bad.stderr().strip())
        .doesNotContain("\n")
        .contains("did you mean 'default-upstream'");
  }

  @Test
  void aSecondServeOnTheSameStorageRootStopsWithExitTwo() {
    Cmd.Result second = transship("serve", "--config", proxy.configFile().toString()).run();

    assertThat(second.exitCode()).as(second.describe()).isEqualTo(2);
    assertThat(second.stderr().strip())
        .doesNotContain("\n")
        .contains("is in use by another transship (pid " + proxy.daemon().pid() + ")");
    assertThat(proxy.daemon().isAlive()).isTrue();
  }
}
