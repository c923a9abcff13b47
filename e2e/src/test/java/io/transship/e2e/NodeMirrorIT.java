package io.transship.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Helm chart's node mirror ({@code helm/transship/files/node-mirror.sh}, the DaemonSet's whole
 * logic) run against a temporary directory standing for a node's {@code /etc/containerd/certs.d}:
 * the hosts.toml it writes makes a real containerd ({@code ctr pull --hosts-dir}) pull through the
 * packaged proxy and send nothing to the registry directly; a hosts.toml it did not write is left
 * alone; on SIGTERM (pod deleted, {@code helm uninstall}) it removes exactly its own files.
 */
@Tag("e2e")
@ExtendWith(DumpLogsOnFailure.class)
class NodeMirrorIT {
  private static final Path SCRIPT =
      Path.of(System.getProperty("user.dir"))
          .getParent()
          .resolve("helm/transship/files/node-mirror.sh");
  private static E2eEnv env;
  private static TestImages images;
  private static DockerRegistry registry;

  @BeforeAll
  static void setUp() {
    Tools.require("containerd", "ctr", "runc", "skopeo", "docker-registry", "tar", "sh");
    Tools.requireRoot("containerd needs root");
    env = E2eEnv.create("nodemirror");
    images = TestImages.build(env);
    registry = DockerRegistry.plain(env, "lab");
    images.pushApp(new Skopeo(env), registry);
  }

  @AfterAll
  static void tearDown() {
    if (env != null) {
      env.close();
    }
  }

  private static Map<String, String> scriptEnv(Path hosts, String endpoint, String registries) {
    return Map.of(
        "HOSTS_DIR",
        hosts.toString(),
        "ENDPOINT",
        endpoint,
        "REGISTRIES",
        registries,
        "OWNER",
        "e2e/transship",
        "RESYNC",
        "5");
  }

  @Test
  void hostsTomlWrittenByTheDaemonSetLogicMakesContainerdPullThroughTransship() throws IOException {
    Transship proxy = Transship.with("lab", registry).start(env, "nodemirror");
    Path hosts = env.dir("certs.d");
    // a file an administrator wrote by hand: never touched
    Path foreign = Files.createDirectories(hosts.resolve("quay.io")).resolve("hosts.toml");
    Files.writeString(foreign, "server = \"https://quay.io\"\n");
    String registries =
        registry.hostPort() + "=http://" + registry.hostPort() + " quay.io=https://quay.io";

    Cmd.of("sh", SCRIPT.toString())
        .env(scriptEnv(hosts, proxy.url(), registries))
        .env("ONCE", "true")
        .timeout(Duration.ofSeconds(30))
        .run()
        .assertOk();
    Path ours = hosts.resolve(registry.hostPort()).resolve("hosts.toml");
    assertThat(ours).exists();
    assertThat(Files.readString(ours))
        .startsWith("# managed by transship node mirror: e2e/transship")
        .contains("server = \"http://" + registry.hostPort() + "\"")
        .contains("[host.\"" + proxy.url() + "\"]")
        .contains("capabilities = [\"pull\", \"resolve\"]");
    assertThat(Files.readString(foreign)).isEqualTo("server = \"https://quay.io\"\n");

    long regMark = registry.daemon().logMark();
    try (Containerd c = Containerd.start(env, "nodemirror")) {
      String ref = registry.hostPort() + "/" + TestImages.APP_REPO + ":v1";
      c.ctr(
              "images",
              "pull",
              "--platform",
              "linux/amd64",
              "--snapshotter",
              "native",
              "--hosts-dir",
              hosts.toString(),
              ref)
          .timeout(Duration.ofMinutes(3))
          .run()
          .assertOk();
    }
    List<DockerRegistry.Access> direct =
        registry.accessesSince(regMark).stream()
            .filter(a -> a.userAgent().contains("containerd"))
            .toList();
    assertThat(direct).as("requests containerd sent to the registry itself").isEmpty();
    assertThat(registry.accessesSince(regMark))
        .as("the proxy fetched the image from the registry")
        .anyMatch(a -> a.path().contains("/blobs/"));

    // the DaemonSet's long-running form: SIGTERM removes its own files, nothing else
    Daemon mirror =
        Daemon.start(
            "node-mirror",
            List.of(
                "env",
                "HOSTS_DIR=" + hosts,
                "ENDPOINT=" + proxy.url(),
                "REGISTRIES=" + registries,
                "OWNER=e2e/transship",
                "RESYNC=5",
                "sh",
                SCRIPT.toString()),
            env.logs().resolve("node-mirror.log"));
    mirror.awaitReady(Duration.ofSeconds(20), () -> mirror.logText().contains("watching every"));
    mirror.terminate();
    assertThat(mirror.awaitExit(Duration.ofSeconds(20))).as("exit code after SIGTERM").isZero();
    assertThat(ours).doesNotExist();
    assertThat(ours.getParent()).doesNotExist();
    assertThat(Files.readString(foreign)).isEqualTo("server = \"https://quay.io\"\n");
    assertThat(mirror.logText()).contains("leaving " + foreign).contains("removed " + ours);
  }
}
