package io.transship.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The proxy under test: writes a config file, runs {@code java -jar transship.jar serve --config
 * FILE} as a separate process and waits for {@code GET /readyz} on the admin port to answer 200.
 */
public final class Transship implements AutoCloseable {
  /** One upstream registry in the config; {@code username} may be null. */
  public record Upstream(String url, String username, String password) {
    public static Upstream of(DockerRegistry r) {
      return r.basicAuth()
          ? new Upstream(r.url(), DockerRegistry.USER, DockerRegistry.PASSWORD)
          : new Upstream(r.url(), null, null);
    }
  }

  private final String name;
  private final Path dir;
  private final Map<String, Upstream> upstreams;
  private final String defaultUpstream;
  private final String format;
  private final String extraYaml;
  private final String s3;
  private int port;
  private int adminPort;
  private Daemon daemon;

  private Transship(
      String name,
      Path dir,
      Map<String, Upstream> upstreams,
      String defaultUpstream,
      String format,
      String extraYaml,
      String s3) {
    this.name = name;
    this.dir = dir;
    this.upstreams = upstreams;
    this.defaultUpstream = defaultUpstream;
    this.format = format;
    this.extraYaml = extraYaml;
    this.s3 = s3;
  }

  /**
   * Builder-ish entry point: {@code Transship.with("lab", reg).with("labauth", authReg).start(env,
   * "p1")}.
   */
  public static Config with(String alias, DockerRegistry registry) {
    return new Config().with(alias, registry);
  }

  /** The upstreams and the default one; the first alias added is the default unless set. */
  public static final class Config {
    private final Map<String, Upstream> upstreams = new LinkedHashMap<>();
    private String defaultUpstream;
    private String format = "none";
    private final StringBuilder extraYaml = new StringBuilder();
    private String s3;

    /** The layer format every upstream serves by default ({@code none}: pass-through). */
    public Config format(String format) {
      this.format = format;
      return this;
    }

    /**
     * Top-level YAML appended to the config file as it is, e.g. {@code conversion: { deadline: 60s
     * }}; it must not repeat a key the harness writes (listen, admin, storage, default-upstream,
     * upstream-defaults, upstreams).
     */
    public Config yaml(String yaml) {
      extraYaml.append(yaml.endsWith("\n") ? yaml : yaml + "\n");
      return this;
    }

    /**
     * S3 storage: the flow mapping written as {@code storage.s3} (see {@link S3Proxy#storageYaml});
     * the proxy's data directory then is the local disk cache in front of it.
     */
    public Config s3(String mapping) {
      this.s3 = mapping;
      return this;
    }

    public Config with(String alias, DockerRegistry registry) {
      upstreams.put(alias, Upstream.of(registry));
      return this;
    }

    public Config with(String alias, Upstream upstream) {
      upstreams.put(alias, upstream);
      return this;
    }

    public Config defaultUpstream(String alias) {
      this.defaultUpstream = alias;
      return this;
    }

    /** Starts a proxy with an empty cache in {@code env}'s directory {@code proxy-<name>}. */
    public Transship start(E2eEnv env, String name) {
      String def = defaultUpstream != null ? defaultUpstream : upstreams.keySet().iterator().next();
      Transship t =
          new Transship(
              name,
              env.dir("proxy-" + name),
              Map.copyOf(upstreams),
              def,
              format,
              extraYaml.toString(),
              s3);
      env.track(t);
      t.start(env);
      return t;
    }
  }

  private void start(E2eEnv env) {
    Path jar = Tools.transshipJar();
    for (int attempt = 1; ; attempt++) {
      port = E2eEnv.freePort();
      adminPort = E2eEnv.freePort();
      Path config = writeConfig();
      List<String> cmd = new ArrayList<>();
      cmd.add(Tools.java().toString());
      String extra = System.getProperty("transship.e2e.jvmArgs", "");
      if (!extra.isBlank()) {
        cmd.addAll(List.of(extra.trim().split("\\s+")));
      }
      cmd.addAll(
          List.of(
              "--enable-native-access=ALL-UNNAMED",
              "-jar",
              jar.toString(),
              "serve",
              "--config",
              config.toString()));
      daemon =
          Daemon.start("transship-" + name, cmd, env.logs().resolve("transship-" + name + ".log"));
      long t0 = System.nanoTime();
      try {
        daemon.awaitReady(Duration.ofSeconds(60), () -> Http.status(adminUrl() + "/readyz") == 200);
        System.out.printf("[e2e] %s ready in %d ms%n", this, (System.nanoTime() - t0) / 1_000_000);
        return;
      } catch (AssertionError e) {
        daemon.stop();
        String log = daemon.logText();
        if (attempt < 3
            && (log.contains("Address already in use") || log.contains("BindException"))) {
          continue;
        }
        throw e;
      }
    }
  }

  private Path writeConfig() {
    StringBuilder y = new StringBuilder();
    y.append("listen: 127.0.0.1:").append(port).append('\n');
    y.append("admin: { listen: 127.0.0.1:").append(adminPort).append(" }\n");
    y.append("storage: { filesystem: { root: \"")
        .append(dir.resolve("data"))
        .append("\", max-bytes: 10GiB }")
        .append(s3 == null ? "" : ", s3: " + s3)
        .append(" }\n");
    y.append("default-upstream: ").append(defaultUpstream).append('\n');
    y.append("upstream-defaults: { format: ").append(format).append(" }\n");
    y.append("upstreams:\n");
    upstreams.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(e -> {
          Upstream u = e.getValue();
          y.append("  ").append(e.getKey()).append(": { url: \"").append(u.url()).append('"');
          if (u.username() != null) {
            y.append(", username: ")
                .append(u.username())
                .append(", password: ")
                .append(u.password());
          }
          y.append(" }\n");
        });
    y.append(extraYaml);
    try {
      return Files.writeString(dir.resolve("transship.yaml"), y.toString(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return port;
  }

  /** "127.0.0.1:PORT" of the registry API. */
  public String hostPort() {
    return "127.0.0.1:" + port;
  }

  public String url() {
    return "http://" + hostPort();
  }

  public String adminUrl() {
    return "http://127.0.0.1:" + adminPort;
  }

  public Daemon daemon() {
    return daemon;
  }

  /**
   * {@code java -jar transship.jar <args> --admin <this proxy's admin URL>}, not yet run: the CLI
   * ({@code warm}, {@code resolve}) talking to this proxy.
   */
  public Cmd cli(String... args) {
    List<String> cmd = new ArrayList<>(List.of(Tools.java().toString(), "-jar"));
    cmd.add(Tools.transshipJar().toString());
    cmd.addAll(List.of(args));
    cmd.addAll(List.of("--admin", adminUrl()));
    return Cmd.of(cmd).timeout(Duration.ofMinutes(2));
  }

  /** The filesystem storage root (the local disk cache when S3 storage is configured). */
  public Path dataDir() {
    return dir.resolve("data");
  }

  public Path configFile() {
    return dir.resolve("transship.yaml");
  }

  /** The Prometheus text from the admin port. */
  public String metrics() {
    var r = Http.get(adminUrl() + "/metrics");
    if (r.statusCode() != 200) {
      throw new AssertionError("GET " + adminUrl() + "/metrics -> " + r.statusCode());
    }
    return new String(r.body(), StandardCharsets.UTF_8);
  }

  /** The Prometheus samples ({@code name{labels}} to value), comment lines skipped. */
  public Map<String, Double> metricSamples() {
    Map<String, Double> m = new java.util.TreeMap<>();
    for (String line : metrics().lines().toList()) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int sp = line.lastIndexOf(' ');
      try {
        m.put(line.substring(0, sp).trim(), Double.parseDouble(line.substring(sp + 1).trim()));
      } catch (RuntimeException e) {
        // not a plain sample line (e.g. with a timestamp); ignore
      }
    }
    return m;
  }

  /** Counter samples ({@code *_total}, {@code *_count}) that grew between two snapshots. */
  public static Map<String, String> grownCounters(
      Map<String, Double> before, Map<String, Double> after) {
    Map<String, String> grown = new java.util.TreeMap<>();
    after.forEach((k, v) -> {
      String name = k.contains("{") ? k.substring(0, k.indexOf('{')) : k;
      double old = before.getOrDefault(k, 0.0);
      if ((name.endsWith("_total") || name.endsWith("_count")) && v > old) {
        grown.put(k, old + " -> " + v);
      }
    });
    return grown;
  }

  public void stop() {
    if (daemon != null && daemon.isAlive()) {
      long t0 = System.nanoTime();
      daemon.stop();
      System.out.printf("[e2e] %s stopped in %d ms%n", this, (System.nanoTime() - t0) / 1_000_000);
    }
  }

  @Override
  public void close() {
    stop();
  }

  @Override
  public String toString() {
    return "transship " + name + " at " + hostPort() + " (admin " + adminPort + ")";
  }
}
