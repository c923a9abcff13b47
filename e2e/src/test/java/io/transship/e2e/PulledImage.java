package io.transship.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What skopeo wrote for a pull: the top-level manifest digests and the set of blob digests, read
 * from an {@code oci:} layout or a {@code dir:} directory. Every blob file is re-hashed, so a blob
 * whose content does not match its name is reported.
 */
public record PulledImage(Path dir, List<String> topDigests, SortedSet<String> blobs) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Reads an OCI image layout written by {@code skopeo copy ... oci:DIR:TAG}. */
  public static PulledImage readOci(Path dir) {
    try {
      JsonNode index = JSON.readTree(dir.resolve("index.json").toFile());
      List<String> tops = new ArrayList<>();
      index.path("manifests").forEach(m -> tops.add(m.path("digest").asText()));
      SortedSet<String> blobs = new TreeSet<>();
      try (Stream<Path> s = Files.list(dir.resolve("blobs/sha256"))) {
        for (Path p : s.toList()) {
          blobs.add(verified(p, p.getFileName().toString()));
        }
      }
      return new PulledImage(dir, List.copyOf(tops), blobs);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads a {@code dir:} copy: {@code manifest.json} (kept byte for byte) and blobs named by their
   * hex digest. The manifest's own digest is the single top digest and is also in the blob set.
   */
  public static PulledImage readDir(Path dir) {
    try {
      SortedSet<String> blobs = new TreeSet<>();
      try (Stream<Path> s = Files.list(dir)) {
        for (Path p : s.toList()) {
          String n = p.getFileName().toString();
          if (n.matches("[0-9a-f]{64}")) {
            blobs.add(verified(p, n));
          }
        }
      }
      String manifest = "sha256:" + FileTree.sha256Hex(dir.resolve("manifest.json"));
      blobs.add(manifest);
      return new PulledImage(dir, List.of(manifest), blobs);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String verified(Path p, String hex) {
    String actual = FileTree.sha256Hex(p);
    if (!actual.equals(hex)) {
      throw new AssertionError("blob " + p + " has sha256 " + actual + ", not its name");
    }
    return "sha256:" + hex;
  }

  /** The parsed JSON of one blob (manifest, index or config) of an {@code oci:} layout. */
  public JsonNode json(String digest) {
    return read(dir.resolve("blobs/sha256").resolve(digest.substring("sha256:".length())));
  }

  /** The parsed {@code manifest.json} of a {@code dir:} copy. */
  public JsonNode manifestJson() {
    return read(dir.resolve("manifest.json"));
  }

  private static JsonNode read(Path p) {
    try {
      return JSON.readTree(p.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
