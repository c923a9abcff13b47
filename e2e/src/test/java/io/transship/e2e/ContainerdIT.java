package io.transship.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * containerd pulls {@code 127.0.0.1:REGPORT/e2e/...} with a hosts.toml that makes the proxy a
 * mirror of the registry, so requests carry {@code ?ns=127.0.0.1:REGPORT}; the proxy's default
 * upstream is an empty decoy registry, so only ns routing can find the image. containerd verifies
 * digests and diff_ids while unpacking; the mounted snapshot must equal the tree the layers
 * describe. The upstream's access log must show no request from containerd itself (which would mean
 * it fell back from the mirror to the server).
 */
@Tag("e2e")
@ExtendWith(DumpLogsOnFailure.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ContainerdIT {
  private static final String PLATFORM = "linux/amd64";

  private static E2eEnv env;
  private static TestImages images;
  private static DockerRegistry registry;
  private static DockerRegistry decoy;

  @BeforeAll
  static void setUp() {
    Tools.require("containerd", "ctr", "runc", "skopeo", "docker-registry", "tar");
    Tools.requireRoot("containerd needs root");
    env = E2eEnv.create("containerd");
    images = TestImages.build(env);
    Skopeo skopeo = new Skopeo(env);
    registry = DockerRegistry.plain(env, "lab");
    decoy = DockerRegistry.plain(env, "decoy"); // stays empty
    images.pushAll(skopeo, registry);
  }

  @AfterAll
  static void tearDown() {
    if (env != null) {
      env.close();
    }
  }

  /** A proxy with an empty cache whose default upstream is the empty decoy. */
  private static Transship startProxy(String name) {
    return Transship.with("lab", registry)
        .with("decoy", decoy)
        .defaultUpstream("decoy")
        .start(env, name);
  }

  @Test
  @Order(1)
  void directPullUnpacksTheExpectedTree() {
    // proves the harness: the expected tree is what containerd makes of the layers
    try (Containerd c = Containerd.start(env, "direct")) {
      String ref = registry.hostPort() + "/e2e/app:v1";
      String snapshotter = pull(c, ref, "--plain-http");
      assertTree(c, ref, snapshotter, "direct");
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"e2e/app:v1", "e2e/app:v1-docker", "e2e/multi:v1"})
  @Order(2)
  void pullThroughTheProxyAsMirror(String repoTag) {
    String name = repoTag.replaceAll("[^a-z0-9]+", "-");
    Transship p = startProxy(name);
    Path hosts =
        Containerd.writeMirrorHosts(env.dir("hosts-" + name), registry.hostPort(), p.url());
    long regMark = registry.daemon().logMark();
    long decoyMark = decoy.daemon().logMark();
    long proxyMark = p.daemon().logMark();
    Map<String, Double> metricsBefore = p.metricSamples();

    try (Containerd c = Containerd.start(env, name)) {
      String ref = registry.hostPort() + "/" + repoTag;
      String snapshotter = pull(c, ref, "--hosts-dir", hosts.toString());

      List<DockerRegistry.Access> direct =
          registry.accessesSince(regMark).stream()
              .filter(a -> a.userAgent().contains("containerd"))
              .toList();
      assertThat(direct)
          .as(
              "requests containerd sent straight to the upstream (it falls back to the server when"
                  + " the mirror fails); proxy log since the pull:\n%s",
              p.daemon().logSince(proxyMark))
          .isEmpty();
      List<String> upstreamGets =
          registry.accessesSince(regMark).stream()
              .filter(a -> a.method().equals("GET") && a.path().contains("/blobs/"))
              .map(DockerRegistry.Access::path)
              .toList();
      for (TestImages.Blob layer : images.appLayers()) {
        assertThat(upstreamGets)
            .as("the (cold) proxy fetched layer %s from the upstream", layer.digest())
            .anyMatch(path -> path.endsWith(layer.digest()) || path.contains(layer.digest() + "?"));
      }
      assertThat(decoy.accessesSince(decoyMark))
          .as("requests the proxy sent to its default upstream although ns named another")
          .isEmpty();
      System.out.println(
          "[e2e] "
              + repoTag
              + ": decoy (default upstream) saw "
              + decoy.accessesSince(decoyMark).size()
              + " requests; upstream saw "
              + registry.accessesSince(regMark).size()
              + " requests from the proxy");
      assertTree(c, ref, snapshotter, name);
    }
    Map<String, String> grown = Transship.grownCounters(metricsBefore, p.metricSamples());
    assertThat(grown).as("proxy counters in admin /metrics that grew during the pull").isNotEmpty();
    grown.keySet().removeIf(k -> !k.startsWith("transship_"));
    System.out.println("[e2e] " + repoTag + ": proxy counters grown: " + grown);
    System.out.println(
        "[e2e] "
            + repoTag
            + ": proxy log lines with ns=: "
            + p.daemon().logSince(proxyMark).lines().filter(l -> l.contains("ns=")).count());
    p.stop();
  }

  /**
   * Pulls and unpacks {@code ref} with overlayfs, or with the native snapshotter when overlayfs is
   * not loaded or its mounts fail here. Returns the snapshotter used.
   */
  private static String pull(Containerd c, String ref, String... how) {
    String snapshotter = c.snapshotterLoaded("overlayfs") ? "overlayfs" : "native";
    Cmd.Result r = pullWith(c, ref, snapshotter, how);
    if (!r.ok() && snapshotter.equals("overlayfs") && r.stderr().contains("mount")) {
      System.out.println("[e2e] overlayfs unpack failed, retrying with native:\n" + r.describe());
      snapshotter = "native";
      r = pullWith(c, ref, snapshotter, how);
    }
    r.assertOk();
    return snapshotter;
  }

  private static Cmd.Result pullWith(Containerd c, String ref, String snapshotter, String... how) {
    List<String> args =
        new java.util.ArrayList<>(
            List.of("images", "pull", "--platform", PLATFORM, "--snapshotter", snapshotter));
    args.addAll(List.of(how));
    args.add(ref);
    return c.ctr(args.toArray(String[]::new)).run();
  }

  private static void assertTree(Containerd c, String ref, String snapshotter, String name) {
    Path mnt = env.dir("mnt-" + name);
    c.mountImage(ref, PLATFORM, snapshotter, mnt);
    try {
      SortedMap<String, FileTree.Node> actual = FileTree.scan(mnt);
      Map<String, FileTree.Node> expected = images.expectedAppTree();
      List<String> diff = FileTree.diff(expected, actual);
      assertThat(diff)
          .as("unpacked tree of %s (%s) vs the layers' expected tree", ref, snapshotter)
          .isEmpty();
      System.out.printf(
          "[e2e] %s unpacked with %s: %d paths as expected%n", ref, snapshotter, actual.size());
      for (List<String> group : images.appHardlinks()) {
        long ino = FileTree.inode(mnt.resolve(group.getFirst()));
        for (String other : group) {
          assertThat(FileTree.inode(mnt.resolve(other))).as("hardlink %s", group).isEqualTo(ino);
        }
      }
    } finally {
      c.unmountImage(mnt);
    }
  }
}
