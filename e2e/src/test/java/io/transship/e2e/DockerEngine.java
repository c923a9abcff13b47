package io.transship.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A private Docker Engine 20.10 (Debian's {@code docker.io}, fetched with {@code apt-get download}
 * and unpacked once into {@value #CACHE}, so no service or postinst runs; see
 * ../shared/rig/docker-engine.sh): own data root, exec root and socket, vfs storage, no iptables or
 * bridge. The docker CLI on PATH talks to it with {@code DOCKER_HOST}, with its own {@code
 * DOCKER_CONFIG} (where {@code docker login} keeps credentials). Certificates of registries with a
 * private CA go in {@code /etc/docker/certs.d/<host:port>/ca.crt} (dockerd has no flag for another
 * directory); {@link #trust} writes one there and {@link #close} removes it. Needs root.
 */
public final class DockerEngine implements AutoCloseable {
  static final String CACHE = "/tmp/transship-e2e-docker";

  private final Path dir;
  private final Path shortDir;
  private final List<Path> trusted = new ArrayList<>();
  private Daemon daemon;

  private DockerEngine(Path dir, Path shortDir) {
    this.dir = dir;
    this.shortDir = shortDir;
  }

  public static DockerEngine start(E2eEnv env, String name) {
    Tools.requireRoot("dockerd needs root");
    Tools.require("docker", "containerd", "runc", "apt-get", "dpkg-deb");
    Path x = unpacked();
    DockerEngine engine = env.track(new DockerEngine(env.dir("docker-" + name), shortDir()));
    try {
      Files.createDirectories(engine.dir.resolve("data"));
      Files.createDirectories(engine.dir.resolve("config"));
      Path config =
          Files.writeString(
              engine.dir.resolve("daemon.json"),
              "{\"iptables\": false, \"ip6tables\": false, \"ip-masq\": false, \"bridge\": \"none\","
                  + " \"storage-driver\": \"vfs\"}\n");
      String path =
          x.resolve("usr/bin") + ":" + x.resolve("usr/sbin") + ":" + System.getenv("PATH");
      engine.daemon =
          Daemon.start(
              "dockerd-" + name,
              List.of(
                  "env",
                  "PATH=" + path,
                  x.resolve("usr/sbin/dockerd").toString(),
                  "--config-file",
                  config.toString(),
                  "--data-root",
                  engine.dir.resolve("data").toString(),
                  "--exec-root",
                  engine.shortDir.resolve("exec").toString(),
                  "--pidfile",
                  engine.shortDir.resolve("dockerd.pid").toString(),
                  "-H",
                  engine.host()),
              env.logs().resolve("dockerd-" + name + ".log"));
      engine.daemon.awaitReady(
          Duration.ofSeconds(60),
          () -> engine.docker("version").timeout(Duration.ofSeconds(10)).run().ok());
      return engine;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static synchronized Path unpacked() {
    Path cache = Path.of(CACHE);
    Path x = cache.resolve("x");
    if (Files.isExecutable(x.resolve("usr/sbin/dockerd"))) {
      return x;
    }
    try {
      Files.createDirectories(cache);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Cmd.of(
            "sh",
            "-c",
            "cd "
                + cache
                + " && (ls docker.io_*.deb >/dev/null 2>&1 || apt-get download docker.io)"
                + " && dpkg-deb -x docker.io_*.deb x")
        .timeout(Duration.ofMinutes(5))
        .ok();
    return x;
  }

  private static Path shortDir() {
    for (int n = 1; ; n++) {
      try {
        return Files.createDirectory(Path.of("/tmp", "tsd-" + n));
      } catch (FileAlreadyExistsException e) {
        // taken
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private String host() {
    return "unix://" + shortDir.resolve("docker.sock");
  }

  /** {@code docker <args>} against this engine, not yet run (timeout 3 min). */
  public Cmd docker(String... args) {
    List<String> all = new ArrayList<>(List.of("docker"));
    all.addAll(List.of(args));
    return Cmd.of(all)
        .env("DOCKER_HOST", host())
        .env("DOCKER_CONFIG", dir.resolve("config").toString())
        .timeout(Duration.ofMinutes(3));
  }

  /** Trusts {@code caFile} for the registry {@code hostPort} (certs.d). */
  public void trust(String hostPort, Path caFile) {
    try {
      Path d = Files.createDirectories(Path.of("/etc/docker/certs.d", hostPort));
      Files.copy(caFile, d.resolve("ca.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      trusted.add(d);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    if (daemon != null) {
      daemon.stop();
    }
    for (Path d : trusted) {
      try {
        Files.deleteIfExists(d.resolve("ca.crt"));
        Files.deleteIfExists(d);
      } catch (IOException e) {
        // best effort
      }
    }
    E2eEnv.unmountAllBelow(shortDir);
    Cmd.of("rm", "-rf", shortDir.toString()).run();
  }
}
