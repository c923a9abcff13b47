package io.transship.e2e;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks for the external programs the tests drive. A missing program is a test FAILURE with a
 * message that names it (never a skip): CI installs everything through {@code bin/test}.
 */
public final class Tools {
  private Tools() {}

  /** Debian package providing each program, for the failure message. */
  private static String packageOf(String tool) {
    return switch (tool) {
      case "htpasswd" -> "apache2-utils";
      case "ctr" -> "containerd";
      default -> tool;
    };
  }

  public static Path which(String tool) {
    String path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
    List<String> dirs = new ArrayList<>(List.of(path.split(File.pathSeparator)));
    dirs.addAll(List.of("/usr/local/sbin", "/usr/sbin", "/sbin"));
    for (String d : dirs) {
      if (d.isEmpty()) {
        continue;
      }
      Path p = Path.of(d, tool);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  /** Fails with one message listing every missing program and the packages that provide them. */
  public static void require(String... tools) {
    List<String> missing = new ArrayList<>();
    for (String t : tools) {
      if (which(t) == null) {
        missing.add(t + " (Debian package " + packageOf(t) + ")");
      }
    }
    if (!missing.isEmpty()) {
      throw new AssertionError(
          "e2e tests need programs that are not on PATH: "
              + String.join(", ", missing)
              + ". Run bin/test as root to install them, or apt-get install them.");
    }
  }

  public static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"))
        || "0".equals(Cmd.of("id", "-u").run().stdout().strip());
  }

  public static void requireRoot(String why) {
    if (!isRoot()) {
      throw new AssertionError("this e2e test must run as root: " + why);
    }
  }

  /** The proxy jar under test, from -Dtransship.jar (set by the e2e pom). */
  public static Path transshipJar() {
    String prop = System.getProperty("transship.jar");
    if (prop == null || prop.isBlank()) {
      throw new AssertionError(
          "system property transship.jar is not set; run the e2e module through Maven (bin/test)");
    }
    Path jar = Path.of(prop).toAbsolutePath().normalize();
    if (!Files.isRegularFile(jar)) {
      throw new AssertionError(
          "proxy jar not found at "
              + jar
              + "; build it first (mvn -pl proxy-server -am package, or bin/test)");
    }
    return jar;
  }

  /** The java launcher of the JDK running the tests (JDK 25+, as the build enforces). */
  public static Path java() {
    return Path.of(System.getProperty("java.home"), "bin", "java");
  }
}
