package io.transship.storage.s3;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;

/**
 * A real S3 server for tests: S3Proxy ({@code org.gaul:s3proxy}, jar-with-dependencies) run out of
 * process with {@code java -jar} on a free loopback port, storing into a temporary directory
 * ({@code filesystem-nio2}), with one bucket {@link #BUCKET} created. One server per test JVM,
 * started on first use and stopped (its directory deleted) when the test run ends.
 *
 * <p>Use it by registering {@link Extension} and declaring an {@code S3ProxyServer} parameter (of a
 * {@code @BeforeAll} method, say). The jar's path comes from the system property {@code
 * s3proxy.jar}, which Maven's surefire sets from the test dependency on S3Proxy; outside Maven the
 * local repository is searched. The tests never skip: a server that cannot start fails them with
 * the reason and the end of S3Proxy's log.
 */
public final class S3ProxyServer implements AutoCloseable {

  public static final String BUCKET = "transship-test";
  public static final String ACCESS_KEY = "test-access-key";
  public static final String SECRET_KEY = "test-secret-key";
  public static final String REGION = "us-east-1";

  /** Must match {@code s3proxy.version} in storage/pom.xml; only used outside Maven. */
  private static final String VERSION = "4.1.0";

  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final int START_ATTEMPTS = 3;

  private final Process process;
  private final Path dir;
  private final Path log;
  private final URI endpoint;
  private final S3Client client;

  private S3ProxyServer(Process process, Path dir, Path log, URI endpoint) {
    this.process = process;
    this.dir = dir;
    this.log = log;
    this.endpoint = endpoint;
    this.client =
        S3Client.builder()
            .endpointOverride(endpoint)
            .region(Region.of(REGION))
            .forcePathStyle(true)
            .credentialsProvider(
                StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
            .build();
  }

  /** {@code http://127.0.0.1:<port>}. */
  public URI endpoint() {
    return endpoint;
  }

  /** A raw client for the server, to look behind a store's back. */
  public S3Client client() {
    return client;
  }

  /** A store configuration on {@link #BUCKET} under {@code prefix}, with 5 MiB parts. */
  public S3Config config(String prefix) {
    return new S3Config(
        BUCKET,
        prefix,
        REGION,
        endpoint,
        true,
        ACCESS_KEY,
        SECRET_KEY,
        S3Config.MIN_PART_SIZE,
        null);
  }

  @Override
  public void close() throws IOException {
    client.close();
    process.destroy();
    try {
      if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    deleteRecursively(dir);
  }

  // ---- starting ----

  /** Starts a server and creates the bucket, or fails with the reason. */
  static S3ProxyServer start() throws IOException {
    Path jar = locateJar();
    Path dir = Files.createTempDirectory("transship-s3proxy");
    IOException last = null;
    for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      int port = freePort();
      Path log = dir.resolve("s3proxy-" + attempt + ".log");
      try {
        S3ProxyServer server = launch(jar, dir, log, port);
        try {
          server.client.createBucket(b -> b.bucket(BUCKET));
        } catch (BucketAlreadyOwnedByYouException e) {
          // fine
        } catch (RuntimeException e) {
          server.close();
          throw new IOException(
              "S3Proxy started but creating bucket " + BUCKET + " failed: " + e.getMessage(), e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server.process::destroyForcibly));
        return server;
      } catch (PortTakenException e) {
        last = e; // someone took the port between probing and binding: try another
      }
    }
    deleteRecursively(dir);
    throw last;
  }

  private static S3ProxyServer launch(Path jar, Path dir, Path log, int port) throws IOException {
    Path data = Files.createDirectories(dir.resolve("data"));
    URI endpoint = URI.create("http://127.0.0.1:" + port);
    Path properties = dir.resolve("s3proxy.conf");
    Files.writeString(
        properties,
        String.join(
            "\n",
            "s3proxy.endpoint=" + endpoint,
            "s3proxy.authorization=aws-v2-or-v4",
            "s3proxy.identity=" + ACCESS_KEY,
            "s3proxy.credential=" + SECRET_KEY,
            "s3proxy.ignore-unknown-headers=true",
            "jclouds.provider=filesystem-nio2",
            "jclouds.filesystem.basedir=" + data,
            ""));
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    ProcessBuilder builder =
        new ProcessBuilder(
                List.of(
                    java,
                    "-Xmx512m",
                    "-XX:TieredStopAtLevel=1",
                    "-jar",
                    jar.toString(),
                    "--properties",
                    properties.toString()))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    builder.environment().put("LOG_LEVEL", "warn");
    Process process = builder.start();
    S3ProxyServer server = new S3ProxyServer(process, dir, log, endpoint);
    try {
      server.awaitReady();
      return server;
    } catch (IOException | RuntimeException e) {
      server.client.close();
      process.destroyForcibly();
      throw e;
    }
  }

  private void awaitReady() throws IOException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build()) {
      HttpRequest probe =
          HttpRequest.newBuilder(endpoint.resolve("/")).timeout(Duration.ofSeconds(2)).build();
      while (true) {
        if (!process.isAlive()) {
          String tail = logTail();
          if (tail.contains("Address already in use") || tail.contains("BindException")) {
            throw new PortTakenException(endpoint);
          }
          throw new IOException(
              "S3Proxy exited with status "
                  + process.exitValue()
                  + " before answering; log:\n"
                  + tail);
        }
        try {
          http.send(probe, HttpResponse.BodyHandlers.discarding());
          return; // any HTTP answer (403 without credentials) means it is serving
        } catch (IOException e) {
          // not listening yet
        }
        if (System.nanoTime() > deadline) {
          throw new IOException(
              "S3Proxy did not answer on "
                  + endpoint
                  + " within "
                  + START_TIMEOUT
                  + "; log:\n"
                  + logTail());
        }
        Thread.sleep(100);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for S3Proxy", e);
    }
  }

  private String logTail() {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  private static Path locateJar() throws IOException {
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
      throw new IOException(
          "S3Proxy jar not found at "
              + jar
              + "; run the tests through Maven (mvn -pl storage verify), which downloads"
              + " org.gaul:s3proxy:"
              + VERSION
              + ":jar-with-dependencies and passes its path as -Ds3proxy.jar");
    }
    return jar;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths
          .sorted(Comparator.reverseOrder())
          .forEach(p -> {
            try {
              Files.deleteIfExists(p);
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
    }
  }

  private static final class PortTakenException extends IOException {
    private static final long serialVersionUID = 1L;

    PortTakenException(URI endpoint) {
      super("S3Proxy could not bind " + endpoint);
    }
  }

  /**
   * Resolves {@code S3ProxyServer} parameters to the JVM-wide server, starting it on first use; the
   * root extension context closes it at the end of the run.
   */
  public static final class Extension implements ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE =
        ExtensionContext.Namespace.create(S3ProxyServer.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
      return parameter.getParameter().getType() == S3ProxyServer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
      return context
          .getRoot()
          .getStore(NAMESPACE)
          .getOrComputeIfAbsent(
              S3ProxyServer.class,
              key -> {
                try {
                  return start();
                } catch (IOException e) {
                  throw new ParameterResolutionException(
                      "cannot start S3Proxy for the S3 tests: " + e.getMessage(), e);
                }
              },
              S3ProxyServer.class);
    }
  }
}
