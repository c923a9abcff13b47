package io.transship.server.architecture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The dependency rules of docs/architecture.md, made executable: modules depend one way (oci-model
 * ← converter, storage ← proxy-server), Netty appears only in proxy-server's {@code http} package,
 * and the AWS SDK only in storage's {@code s3} package.
 */
class ArchitectureTest {
  private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
  private static final Pattern NETTY = Pattern.compile("\\bio\\.netty\\.");
  private static final Pattern AWS = Pattern.compile("\\bsoftware\\.amazon\\.");
  private static final Pattern MODULE_DEPENDENCY =
      Pattern.compile(
          "<groupId>io\\.transship</groupId>\\s*<artifactId>([a-z-]+)</artifactId>",
          Pattern.DOTALL);

  @Test
  void formatAndStorageModulesNeverUseNetty() throws IOException {
    for (String module : List.of("oci-model", "converter", "storage")) {
      assertThat(filesMentioning(REPO.resolve(module).resolve("src/main/java"), NETTY))
          .as("Netty in module %s", module)
          .isEmpty();
    }
  }

  @Test
  void nettyIsUsedOnlyInTheHttpPackage() throws IOException {
    Path sources = REPO.resolve("proxy-server/src/main/java");
    Path http = sources.resolve("io/transship/server/http");
    assertThat(filesMentioning(sources, NETTY))
        .as("proxy-server files outside the http package that use Netty")
        .allMatch(file -> file.startsWith(http));
    assertThat(filesMentioning(http, NETTY)).as("the http package really is the edge").isNotEmpty();
  }

  @Test
  void theAwsSdkStaysInsideStorage() throws IOException {
    for (String module : List.of("oci-model", "converter", "proxy-server")) {
      assertThat(filesMentioning(REPO.resolve(module).resolve("src/main/java"), AWS))
          .as("AWS SDK in module %s", module)
          .isEmpty();
    }
  }

  @Test
  void modulesDependOneWay() throws IOException {
    assertThat(moduleDependencies("oci-model")).isEmpty();
    assertThat(moduleDependencies("converter")).containsOnly("oci-model");
    assertThat(moduleDependencies("storage")).containsOnly("oci-model");
    assertThat(moduleDependencies("proxy-server"))
        .containsOnly("oci-model", "converter", "storage");
  }

  @Test
  void theRulesSeeTheSources() throws IOException {
    // guards against the checks above passing because they looked at nothing
    assertThat(javaFiles(REPO.resolve("oci-model/src/main/java"))).isNotEmpty();
    assertThat(javaFiles(REPO.resolve("storage/src/main/java"))).isNotEmpty();
    assertThat(javaFiles(REPO.resolve("proxy-server/src/main/java"))).hasSizeGreaterThan(10);
  }

  private static List<String> moduleDependencies(String module) throws IOException {
    String pom = Files.readString(REPO.resolve(module).resolve("pom.xml"));
    String dependencies = pom.substring(pom.indexOf("<dependencies>"));
    Matcher matcher = MODULE_DEPENDENCY.matcher(dependencies);
    return matcher.results().map(m -> m.group(1)).distinct().toList();
  }

  private static List<Path> filesMentioning(Path root, Pattern pattern) throws IOException {
    return javaFiles(root).stream()
        .filter(file -> {
          try {
            return pattern.matcher(Files.readString(file)).find();
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        })
        .toList();
  }

  private static List<Path> javaFiles(Path root) throws IOException {
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> files = Files.walk(root)) {
      return files.filter(f -> f.toString().endsWith(".java")).toList();
    }
  }
}
