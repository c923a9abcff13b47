package io.transship.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * One test class's world: a temporary directory that holds everything (registry data, proxy cache,
 * containerd root, logs) and the resources to release in {@code @AfterAll}, newest first. Closing
 * also lazily unmounts anything still mounted below the directory before deleting it.
 */
public final class E2eEnv implements AutoCloseable {
  private final Path root;
  private final Deque<AutoCloseable> resources = new ArrayDeque<>();

  private E2eEnv(Path root) {
    this.root = root;
  }

  public static E2eEnv create(String name) {
    try {
      Path base = Path.of(System.getProperty("java.io.tmpdir"));
      Path root = Files.createTempDirectory(base, "transship-e2e-" + name + "-");
      System.out.println("[e2e] " + name + ": working directory " + root);
      return new E2eEnv(root.toRealPath());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Path root() {
    return root;
  }

  /** A new (empty) directory under the root. */
  public Path dir(String first, String... more) {
    Path p = root.resolve(Path.of(first, more));
    try {
      return Files.createDirectories(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Path logs() {
    return dir("logs");
  }

  /** Registers something to close in {@link #close()} (reverse order of registration). */
  public <T extends AutoCloseable> T track(T resource) {
    resources.push(resource);
    return resource;
  }

  /** A currently free TCP port on 127.0.0.1. */
  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    List<Throwable> errors = new ArrayList<>();
    while (!resources.isEmpty()) {
      try {
        resources.pop().close();
      } catch (Throwable t) {
        errors.add(t);
      }
    }
    unmountAllBelow(root);
    if (Boolean.getBoolean("transship.e2e.keep")) {
      System.out.println("[e2e] keeping " + root + " (-Dtransship.e2e.keep=true)");
    } else {
      deleteTree(root);
    }
    if (!errors.isEmpty()) {
      AssertionError e =
          new AssertionError("cleanup failed: " + errors.getFirst(), errors.getFirst());
      errors.stream().skip(1).forEach(e::addSuppressed);
      throw e;
    }
  }

  /** Lazily unmounts every mount point at or below {@code dir}, deepest first. */
  static void unmountAllBelow(Path dir) {
    Path mounts = Path.of("/proc/self/mounts");
    if (!Files.isReadable(mounts)) {
      return;
    }
    try {
      String prefix = dir.toString();
      List<String> points =
          Files.readAllLines(mounts).stream()
              .map(l -> l.split(" "))
              .filter(f -> f.length > 1)
              .map(f -> f[1].replace("\\040", " "))
              .filter(m -> m.equals(prefix) || m.startsWith(prefix + "/"))
              .sorted((a, b) -> b.length() - a.length())
              .toList();
      for (String m : points) {
        Cmd.of("umount", "-l", m).run();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
              try {
                Files.delete(file);
              } catch (IOException ignored) {
                // best effort
              }
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) {
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) {
              try {
                Files.delete(d);
              } catch (IOException ignored) {
                // best effort
              }
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException ignored) {
      // best effort
    }
  }
}
