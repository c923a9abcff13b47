package io.transship.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A real S3 server: S3Proxy ({@code org.gaul:s3proxy}, jar-with-dependencies) run with {@code java
 * -jar} on a free loopback port, AWS v2/v4 signatures required, storing into a directory of the
 * test ({@code jclouds.provider=filesystem-nio2}).
 *
 * <p>That backend maps a bucket to a directory under its base directory and an object key to a file
 * path under the bucket's directory, so the bucket is created with {@code mkdir} before the server
 * starts, and what transship stored can be listed and read from the disk ({@link #keys}, {@link
 * #file}) without an S3 client on the test classpath.
 *
 * <p>The jar's path comes from the system property {@code s3proxy.jar}, which the e2e pom sets from
 * its test dependency on S3Proxy; outside Maven the local repository is searched.
 */
public final class S3Proxy implements AutoCloseable {
  public static final String ACCESS_KEY = "e2e-access-key";
  public static final String SECRET_KEY = "e2e-secret-key";
  public static final String REGION = "us-east-1";

  /** Must match the S3Proxy version in e2e/pom.xml; only used outside Maven. */
  private static final String VERSION = "4.1.0";

  private final String name;
  private final Path dir;
  private final String bucket;
  private int port;
  private Daemon daemon;

  private S3Proxy(String name, Path dir, String bucket) {
    this.name = name;
    this.dir = dir;
    this.bucket = bucket;
  }

  /** Starts S3Proxy in {@code env}'s directory {@code s3-<name>} with one (empty) bucket. */
  public static S3Proxy start(E2eEnv env, String name, String bucket) {
    S3Proxy s = env.track(new S3Proxy(name, env.dir("s3-" + name), bucket));
    s.start(env);
    return s;
  }

  private void start(E2eEnv env) {
    Path jar = jar();
    try {
      Files.createDirectories(bucketDir());
      for (int attempt = 1; ; attempt++) {
        port = E2eEnv.freePort();
        Path properties = dir.resolve("s3proxy.conf");
        Files.writeString(
            properties,
            String.join(
                "\n",
                "s3proxy.endpoint=" + endpoint(),
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                "s3proxy.ignore-unknown-headers=true",
                "jclouds.provider=filesystem-nio2",
                "jclouds.filesystem.basedir=" + basedir(),
                ""));
        long t0 = System.nanoTime();
        daemon =
            Daemon.start(
                "s3proxy-" + name,
                List.of(
                    Tools.java().toString(),
                    "-Xmx512m",
                    "-XX:TieredStopAtLevel=1",
                    "-jar",
                    jar.toString(),
                    "--properties",
                    properties.toString()),
                env.logs().resolve("s3proxy-" + name + ".log"));
        try {
          // any HTTP answer (403 without a signature) means it is serving
          daemon.awaitReady(Duration.ofSeconds(60), () -> Http.status(endpoint() + "/") > 0);
          System.out.printf(
              "[e2e] %s ready in %d ms%n", this, (System.nanoTime() - t0) / 1_000_000);
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
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path jar() {
    String property = System.getProperty("s3proxy.jar");
    Path jar;
    if (property != null && !property.isBlank() && !property.startsWith("${")) {
      jar = Path.of(property);
    } else {
      String repository =
          System.getProperty(
              "maven.repo.local",
              Path.of(System.getProperty("user.home"), ".m2", "repository").toString());
      jar =
          Path.of(
              repository,
              "org/gaul/s3proxy",
              VERSION,
              "s3proxy-" + VERSION + "-jar-with-dependencies.jar");
    }
    if (!Files.isRegularFile(jar)) {
      throw new AssertionError(
          "S3Proxy jar not found at "
              + jar
              + "; run the e2e tests through Maven, which resolves org.gaul:s3proxy:"
              + VERSION
              + ":jar-with-dependencies and passes its path as -Ds3proxy.jar");
    }
    return jar;
  }

  /** {@code http://127.0.0.1:<port>}. */
  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  public String bucket() {
    return bucket;
  }

  /** The backend's base directory: one subdirectory per bucket. */
  public Path basedir() {
    return dir.resolve("data");
  }

  /** The bucket's directory: one file per object, at the object's key. */
  public Path bucketDir() {
    return basedir().resolve(bucket);
  }

  /**
   * The flow mapping for transship's {@code storage.s3} on this server's bucket under {@code
   * prefix} (path-style addressing, this server's credentials, 5 MiB parts, no presigning).
   */
  public String storageYaml(String prefix) {
    return "{ bucket: "
        + bucket
        + ", prefix: \""
        + prefix
        + "\", region: "
        + REGION
        + ", endpoint: \""
        + endpoint()
        + "\", path-style: true, access-key-id: "
        + ACCESS_KEY
        + ", secret-access-key: "
        + SECRET_KEY
        + ", part-size: 5MiB, presign: { enabled: false, expiry: 5m } }";
  }

  /** Every object key stored under {@code prefix} (relative to it), sorted. */
  public SortedSet<String> keys(String prefix) {
    Path under = bucketDir().resolve(prefix);
    SortedSet<String> keys = new TreeSet<>();
    if (!Files.isDirectory(under)) {
      return keys;
    }
    try (Stream<Path> s = Files.walk(under)) {
      s.filter(Files::isRegularFile)
          .forEach(p -> keys.add(under.relativize(p).toString().replace('\\', '/')));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return keys;
  }

  /** The file holding the object {@code key} (which includes any prefix). */
  public Path file(String key) {
    return bucketDir().resolve(key);
  }

  public Daemon daemon() {
    return daemon;
  }

  public void stop() {
    if (daemon != null) {
      daemon.stop();
    }
  }

  @Override
  public void close() {
    stop();
  }

  @Override
  public String toString() {
    return "s3proxy " + name + " at " + endpoint() + " (bucket " + bucket + ", " + basedir() + ")";
  }
}
