package io.transship.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A private containerd (root, state, temp dir and socket under the test directory; the CRI plugin
 * disabled) driven with {@code ctr}, plus {@code hosts.toml} mirror directories. Needs root.
 */
public final class Containerd implements AutoCloseable {
  public static final String NAMESPACE = "e2e";

  private final Path dir;
  private final Path socket;
  private final List<Path> mounts = new ArrayList<>();
  private Daemon daemon;

  private final String name;

  private Containerd(Path dir, String name) {
    this.dir = dir;
    this.name = name;
    this.socket = dir.resolve("containerd.sock");
  }

  /**
   * Starts a fresh containerd in {@code env}'s directory {@code containerd-<name>}. A fresh one per
   * pull matters: containerd shares content and snapshots across namespaces, so a second pull of
   * the same layers would not fetch them again.
   */
  public static Containerd start(E2eEnv env, String name) {
    Tools.require("containerd", "ctr", "runc");
    Tools.requireRoot("containerd needs root to unpack layers (chown, mknod whiteouts, mounts)");
    Containerd c = env.track(new Containerd(env.dir("containerd-" + name), name));
    c.start(env.logs().resolve("containerd-" + name + ".log"));
    return c;
  }

  private void start(Path log) {
    try {
      for (String d : List.of("root", "state", "tmp")) {
        Files.createDirectories(dir.resolve(d));
      }
      Path config = dir.resolve("config.toml");
      Files.writeString(
          config,
          """
          version = 2
          root = "%1$s/root"
          state = "%1$s/state"
          temp = "%1$s/tmp"
          disabled_plugins = ["io.containerd.grpc.v1.cri"]
          [grpc]
            address = "%1$s/containerd.sock"
          [ttrpc]
            address = "%1$s/containerd.sock.ttrpc"
          [debug]
            address = "%1$s/debug.sock"
            level = "info"
          [plugins."io.containerd.gc.v1.scheduler"]
            startup_delay = "100ms"
          """
              .formatted(dir));
      daemon =
          Daemon.start(
              "containerd-" + name, List.of("containerd", "--config", config.toString()), log);
      daemon.awaitReady(Duration.ofSeconds(30), () -> ctrRaw("version").run().ok());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Cmd ctrRaw(String... args) {
    List<String> all = new ArrayList<>(List.of("ctr", "--address", socket.toString()));
    all.addAll(List.of(args));
    return Cmd.of(all).timeout(Duration.ofSeconds(20));
  }

  /** {@code ctr --address SOCK -n e2e <args>}, not yet run (timeout 5 min). */
  public Cmd ctr(String... args) {
    List<String> all =
        new ArrayList<>(List.of("ctr", "--address", socket.toString(), "-n", NAMESPACE));
    all.addAll(List.of(args));
    return Cmd.of(all).timeout(Duration.ofMinutes(5));
  }

  /** Whether containerd reports the snapshotter plugin as loaded ("ok"). */
  public boolean snapshotterLoaded(String name) {
    String out = ctrRaw("plugins", "ls").timeout(Duration.ofSeconds(30)).ok().stdout();
    return out.lines()
        .map(l -> l.trim().split("\\s+"))
        .anyMatch(f ->
            f.length >= 4
                && f[0].equals("io.containerd.snapshotter.v1")
                && f[1].equals(name)
                && f[f.length - 1].equals("ok"));
  }

  /**
   * Writes {@code <hostsDir>/<registryHostPort>/hosts.toml}: the registry stays the server, the
   * mirror is tried first for pull and resolve (containerd then adds {@code ?ns=<registry>}).
   */
  public static Path writeMirrorHosts(Path hostsDir, String registryHostPort, String mirrorUrl) {
    try {
      Path d = Files.createDirectories(hostsDir.resolve(registryHostPort));
      Files.writeString(
          d.resolve("hosts.toml"),
          """
          server = "http://%s"

          [host."%s"]
            capabilities = ["pull", "resolve"]
          """
              .formatted(registryHostPort, mirrorUrl));
      return hostsDir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Mounts the (already pulled and unpacked) image read-only at {@code target}; it is unmounted in
   * {@link #close()} if the test does not do it.
   */
  public void mountImage(String ref, String platform, String snapshotter, Path target) {
    try {
      Files.createDirectories(target);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ctr(
            "images",
            "mount",
            "--platform",
            platform,
            "--snapshotter",
            snapshotter,
            ref,
            target.toString())
        .ok();
    mounts.add(target);
  }

  public void unmountImage(Path target) {
    ctr("images", "unmount", "--rm", target.toString()).run();
    mounts.remove(target);
  }

  public Path dir() {
    return dir;
  }

  public Daemon daemon() {
    return daemon;
  }

  @Override
  public void close() {
    for (Path m : List.copyOf(mounts)) {
      unmountImage(m);
    }
    if (daemon != null) {
      daemon.stop();
    }
    E2eEnv.unmountAllBelow(dir);
  }
}
