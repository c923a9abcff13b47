package io.transship.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A file tree as a sorted map from relative path to {@link Node}: what an unpacked image should
 * look like ({@link TestImages}) and what a mounted snapshot does look like ({@link #scan}).
 */
public final class FileTree {
  private FileTree() {}

  public enum Type {
    DIR,
    FILE,
    SYMLINK,
    OTHER
  }

  /**
   * One path. {@code mode} holds the permission bits including setuid/setgid/sticky (0 for
   * symlinks), {@code sha256} is set for regular files, {@code target} for symlinks.
   */
  public record Node(
      Type type, int mode, int uid, int gid, long size, String sha256, String target) {
    public static Node dir(int mode, int uid, int gid) {
      return new Node(Type.DIR, mode, uid, gid, 0, null, null);
    }

    public static Node file(int mode, int uid, int gid, byte[] content) {
      return new Node(Type.FILE, mode, uid, gid, content.length, sha256Hex(content), null);
    }

    public static Node symlink(String target, int uid, int gid) {
      return new Node(Type.SYMLINK, 0, uid, gid, 0, null, target);
    }

    @Override
    public String toString() {
      return switch (type) {
        case DIR -> "dir %04o %d:%d".formatted(mode, uid, gid);
        case FILE -> "file %04o %d:%d %d bytes sha256:%s".formatted(mode, uid, gid, size, sha256);
        case SYMLINK -> "symlink -> %s %d:%d".formatted(target, uid, gid);
        case OTHER -> "other %o".formatted(mode);
      };
    }
  }

  /** Scans {@code root} without following symlinks; the root itself is not included. */
  public static SortedMap<String, Node> scan(Path root) {
    SortedMap<String, Node> tree = new TreeMap<>();
    try {
      Files.walkFileTree(
          root,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
                throws IOException {
              if (!dir.equals(root)) {
                tree.put(rel(root, dir), node(dir));
              }
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              tree.put(rel(root, file), node(file));
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return tree;
  }

  private static String rel(Path root, Path p) {
    return root.relativize(p).toString();
  }

  private static Node node(Path p) throws IOException {
    Map<String, Object> a =
        Files.readAttributes(p, "unix:mode,uid,gid,size", LinkOption.NOFOLLOW_LINKS);
    int mode = (Integer) a.get("mode");
    int uid = (Integer) a.get("uid");
    int gid = (Integer) a.get("gid");
    int fmt = mode & 0170000;
    int perm = mode & 07777;
    return switch (fmt) {
      case 0040000 -> Node.dir(perm, uid, gid);
      case 0120000 -> Node.symlink(Files.readSymbolicLink(p).toString(), uid, gid);
      case 0100000 -> new Node(Type.FILE, perm, uid, gid, (Long) a.get("size"), sha256Hex(p), null);
      default -> new Node(Type.OTHER, mode, uid, gid, 0, null, null);
    };
  }

  /** The inode number of a path (not following symlinks), to check hardlinks. */
  public static long inode(Path p) {
    try {
      return (Long) Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Human-readable differences between an expected and an actual tree; empty when equal. */
  public static List<String> diff(Map<String, Node> expected, Map<String, Node> actual) {
    List<String> out = new ArrayList<>();
    for (var e : expected.entrySet()) {
      Node a = actual.get(e.getKey());
      if (a == null) {
        out.add("missing    " + e.getKey() + "  (expected " + e.getValue() + ")");
      } else if (!a.equals(e.getValue())) {
        out.add("different  " + e.getKey() + "  expected " + e.getValue() + ", actual " + a);
      }
    }
    for (var a : actual.entrySet()) {
      if (!expected.containsKey(a.getKey())) {
        out.add("unexpected " + a.getKey() + "  (" + a.getValue() + ")");
      }
    }
    return out;
  }

  public static String sha256Hex(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public static String sha256Hex(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
