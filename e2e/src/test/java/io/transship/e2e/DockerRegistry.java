package io.transship.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's {@code docker-registry} (CNCF distribution 2.8) on 127.0.0.1 with filesystem storage in
 * its own directory: the upstream the proxy pulls through. {@link #withBasicAuth} protects it with
 * an htpasswd (bcrypt) file for {@value #USER} / {@value #PASSWORD}.
 */
public final class DockerRegistry implements AutoCloseable {
  public static final String USER = "lab";
  public static final String PASSWORD = "labpass";

  private final String name;
  private final Path dir;
  private final boolean basicAuth;
  private int port;
  private Daemon daemon;

  private DockerRegistry(String name, Path dir, boolean basicAuth) {
    this.name = name;
    this.dir = dir;
    this.basicAuth = basicAuth;
  }

  /** Starts a registry without authentication. */
  public static DockerRegistry plain(E2eEnv env, String name) {
    return env.track(new DockerRegistry(name, env.dir("registry-" + name), false)).start(env);
  }

  /** Starts a registry that requires basic auth lab / labpass. */
  public static DockerRegistry withBasicAuth(E2eEnv env, String name) {
    return env.track(new DockerRegistry(name, env.dir("registry-" + name), true)).start(env);
  }

  private DockerRegistry start(E2eEnv env) {
    Tools.require("docker-registry");
    if (basicAuth) {
      Tools.require("htpasswd");
    }
    try {
      Path data = Files.createDirectories(dir.resolve("data"));
      String auth = "";
      if (basicAuth) {
        // distribution only accepts bcrypt entries
        String line = Cmd.of("htpasswd", "-Bbn", USER, PASSWORD).ok().stdout().strip();
        Path htpasswd = dir.resolve("htpasswd");
        Files.writeString(htpasswd, line + "\n");
        auth = "auth:\n  htpasswd:\n    realm: transship-e2e\n    path: " + htpasswd + "\n";
      }
      // a port can be taken between choosing and binding it: retry a few times with another
      for (int attempt = 1; ; attempt++) {
        port = E2eEnv.freePort();
        Path config = dir.resolve("config.yml");
        Files.writeString(
            config,
            """
            version: 0.1
            log:
              level: info
              formatter: text
              fields: {service: e2e-%s}
            storage:
              filesystem: {rootdirectory: %s}
              delete: {enabled: true}
              cache: {blobdescriptor: inmemory}
              maintenance:
                uploadpurging: {enabled: false}
            http:
              addr: 127.0.0.1:%d
              secret: transship-e2e-%s
            %s\
            """
                .formatted(name, data, port, name, auth));
        daemon =
            Daemon.start(
                "docker-registry-" + name,
                List.of("docker-registry", "serve", config.toString()),
                env.logs().resolve("registry-" + name + ".log"));
        try {
          daemon.awaitReady(
              Duration.ofSeconds(30),
              () -> {
                int s = Http.status(url() + "/v2/");
                return s == 200 || s == 401;
              });
          return this;
        } catch (AssertionError e) {
          daemon.stop();
          if (attempt < 3 && daemon.logText().contains("address already in use")) {
            continue;
          }
          throw e;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return port;
  }

  /** "127.0.0.1:PORT", as used in image references. */
  public String hostPort() {
    return "127.0.0.1:" + port;
  }

  public String url() {
    return "http://" + hostPort();
  }

  public boolean basicAuth() {
    return basicAuth;
  }

  public Daemon daemon() {
    return daemon;
  }

  /** Stops the registry (the data stays, but nothing answers on the port any more). */
  public void stop() {
    if (daemon != null) {
      daemon.stop();
    }
  }

  @Override
  public void close() {
    stop();
  }

  /** One request as seen in the registry's access log. */
  public record Access(String method, String path, int status, String userAgent) {}

  private static final Pattern ACCESS =
      Pattern.compile("\"([A-Z]+) (\\S+) HTTP/[0-9.]+\" (\\d{3}) \\S+ \"[^\"]*\" \"([^\"]*)\"");

  /** The access-log lines (combined log format) written since {@code mark}. */
  public List<Access> accessesSince(long mark) {
    return daemon
        .logSince(mark)
        .lines()
        .map(ACCESS::matcher)
        .filter(Matcher::find)
        .map(m -> new Access(m.group(1), m.group(2), Integer.parseInt(m.group(3)), m.group(4)))
        .toList();
  }

  @Override
  public String toString() {
    return "docker-registry " + name + " at " + hostPort() + (basicAuth ? " (basic auth)" : "");
  }
}
