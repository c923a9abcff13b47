package io.transship.e2e;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;

/**
 * Builds the test images offline and deterministically into an OCI image layout, and pushes them to
 * a {@link DockerRegistry} with skopeo.
 *
 * <ul>
 *   <li>{@code app} (linux/amd64): three gzip layers of a few MB each (random incompressible and
 *       compressible files), with directories, special modes (setuid, setgid, sticky, 0700),
 *       non-root ownership, absolute, relative and dangling symlinks, a hardlink, a whiteout
 *       ({@code .wh.name}) of a file and of a directory, an opaque whiteout ({@code .wh..wh..opq}),
 *       a file replaced by a directory and vice versa, a long (GNU longname) path and non-ASCII
 *       names. Layers are written by GNU tar ({@code --numeric-owner}), compressed with
 *       java.util.zip; the config has the matching {@code rootfs.diff_ids}.
 *   <li>{@code arm64}: one small layer, linux/arm64/v8.
 *   <li>{@code multi}: an OCI image index over both.
 * </ul>
 *
 * {@link #expectedAppTree()} is the app's file tree after applying the layers (whiteouts removed),
 * computed from the layer model, not from the tar files.
 */
public final class TestImages {
  public static final String APP_REPO = "e2e/app";
  public static final String MULTI_REPO = "e2e/multi";
  public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
  public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
  public static final String OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
  public static final String DOCKER_MANIFEST =
      "application/vnd.docker.distribution.manifest.v2+json";

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long MTIME = 1_700_000_000L;
  private static final String CREATED = "2023-11-14T22:13:20Z";
  private static final int MIB = 1 << 20;

  /** A content-addressed blob in the layout; {@code diffId} is set for layers. */
  public record Blob(String digest, long size, String diffId) {}

  private final Path dir;
  private final Path layout;
  private final boolean asRoot;
  private final List<Blob> appLayers = new ArrayList<>();
  private Blob appConfig;
  private Blob appManifest;
  private Blob armManifest;
  private Blob multiIndex;
  private final SortedMap<String, FileTree.Node> expectedAppTree = new TreeMap<>();
  private final List<List<String>> appHardlinks = new ArrayList<>();

  private TestImages(Path dir) {
    this.dir = dir;
    this.layout = dir.resolve("oci");
    this.asRoot = Tools.isRoot();
  }

  /** Builds all images into {@code env}'s {@code images/} directory (about a second). */
  public static TestImages build(E2eEnv env) {
    Tools.require("tar");
    TestImages t = new TestImages(env.dir("images"));
    try {
      t.buildAll();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    System.out.println(
        "[e2e] images: app "
            + t.appManifest.digest()
            + " (layers "
            + t.appLayers.stream().map(l -> Long.toString(l.size())).toList()
            + " bytes), multi "
            + t.multiIndex.digest());
    return t;
  }

  // ------------------------------------------------------------------ accessors

  public Path layout() {
    return layout;
  }

  /** {@code oci:<layout>:<ref>} for ref app, arm64 or multi. */
  public String ociRef(String ref) {
    return "oci:" + layout + ":" + ref;
  }

  public Blob appManifest() {
    return appManifest;
  }

  public Blob appConfig() {
    return appConfig;
  }

  public List<Blob> appLayers() {
    return List.copyOf(appLayers);
  }

  public Blob armManifest() {
    return armManifest;
  }

  public Blob multiIndex() {
    return multiIndex;
  }

  public Path blobPath(String digest) {
    return layout.resolve("blobs/sha256").resolve(digest.substring("sha256:".length()));
  }

  public byte[] blobBytes(String digest) {
    try {
      return Files.readAllBytes(blobPath(digest));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The app image's root file system after applying its layers (whiteouts removed). */
  public SortedMap<String, FileTree.Node> expectedAppTree() {
    return new TreeMap<>(expectedAppTree);
  }

  /** Groups of paths that must be hardlinks of one another (same inode) in the app image. */
  public List<List<String>> appHardlinks() {
    return List.copyOf(appHardlinks);
  }

  // ------------------------------------------------------------------ pushing

  /**
   * Pushes {@code e2e/app:v1} (OCI), {@code e2e/app:v1-docker} (Docker schema2) and {@code
   * e2e/multi:v1} (the index, {@code --all}).
   */
  public void pushAll(Skopeo skopeo, DockerRegistry reg) {
    pushApp(skopeo, reg);
    skopeo.copy(
        creds(
            reg,
            "--format",
            "v2s2",
            ociRef("app"),
            "docker://" + reg.hostPort() + "/" + APP_REPO + ":v1-docker"));
    skopeo.copy(
        creds(
            reg,
            "--all",
            ociRef("multi"),
            "docker://" + reg.hostPort() + "/" + MULTI_REPO + ":v1"));
  }

  /** Pushes {@code e2e/app:v1} only (with lab/labpass when the registry wants basic auth). */
  public void pushApp(Skopeo skopeo, DockerRegistry reg) {
    skopeo.copy(creds(reg, ociRef("app"), "docker://" + reg.hostPort() + "/" + APP_REPO + ":v1"));
  }

  private static String[] creds(DockerRegistry reg, String... args) {
    List<String> all = new ArrayList<>();
    if (reg.basicAuth()) {
      all.add("--dest-creds");
      all.add(DockerRegistry.USER + ":" + DockerRegistry.PASSWORD);
    }
    all.addAll(List.of(args));
    return all.toArray(String[]::new);
  }

  // ------------------------------------------------------------------ the images

  private void buildAll() throws IOException {
    Files.createDirectories(layout.resolve("blobs/sha256"));
    Files.writeString(layout.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");

    List<Layer> app = List.of(baseLayer(), appLayer(), updateLayer());
    for (int i = 0; i < app.size(); i++) {
      Layer l = app.get(i);
      appLayers.add(writeLayer(l, "app-layer" + (i + 1)));
      l.applyTo(expectedAppTree, asRoot);
    }
    appHardlinks.add(List.of("app/data/numbers.txt", "app/data/numbers-hardlink.txt"));
    appConfig = writeConfig("amd64", null, appLayers, List.of("base", "app", "update"));
    appManifest = writeManifest(appConfig, appLayers);

    Blob armLayer = writeLayer(armLayer(), "arm64-layer1");
    Blob armConfig = writeConfig("arm64", "v8", List.of(armLayer), List.of("arm64"));
    armManifest = writeManifest(armConfig, List.of(armLayer));

    Map<String, Object> index = new LinkedHashMap<>();
    index.put("schemaVersion", 2);
    index.put("mediaType", OCI_INDEX);
    index.put(
        "manifests",
        List.of(
            descriptor(OCI_MANIFEST, appManifest, platform("amd64", null)),
            descriptor(OCI_MANIFEST, armManifest, platform("arm64", "v8"))));
    multiIndex = writeBlob(JSON.writeValueAsBytes(index));

    Map<String, Object> layoutIndex = new LinkedHashMap<>();
    layoutIndex.put("schemaVersion", 2);
    layoutIndex.put("mediaType", OCI_INDEX);
    layoutIndex.put(
        "manifests",
        List.of(
            refDescriptor(OCI_MANIFEST, appManifest, "app"),
            refDescriptor(OCI_MANIFEST, armManifest, "arm64"),
            refDescriptor(OCI_INDEX, multiIndex, "multi")));
    Files.write(layout.resolve("index.json"), JSON.writeValueAsBytes(layoutIndex));
  }

  private static Layer baseLayer() {
    return new Layer()
        .dir("bin", 0755)
        .dir("etc", 0755)
        .dir("root", 0700)
        .dir("tmp", 01777)
        .dir("usr/lib", 0755)
        .dir("usr/share/doc/e2e", 0755)
        .dir("opt/old/sub", 0755)
        .file("bin/tool", 0755, text("#!/bin/sh\necho transship e2e tool\n"))
        .symlink("bin/sh", "tool")
        .file("etc/motd", 0644, text("welcome to the transship e2e image\n"))
        .file("etc/hostname", 0644, text("base\n"))
        .file(
            "etc/passwd",
            0644,
            text("root:x:0:0:root:/root:/bin/sh\nlab:x:1000:1000::/home/lab:/bin/sh\n"))
        .symlink("etc/localtime", "/usr/share/zoneinfo/UTC")
        .file("root/.profile", 0600, text("export PS1='# '\n"))
        .file("usr/lib/base-random.bin", 0644, random(1, 4 * MIB))
        .symlink("usr/lib/libdummy.so", "libdummy.so.1")
        .file("usr/share/base-text.txt", 0644, compressible(1, 4 * MIB))
        .file("usr/share/doc/e2e/README", 0644, text("the base layer\n"))
        .file("usr/share/doc/e2e/LICENSE", 0444, text("public domain\n"))
        .file("opt/old/a.txt", 0644, text("a\n"))
        .file("opt/old/b.txt", 0644, text("b\n"))
        .file("opt/old/sub/c.txt", 0644, text("c\n"));
  }

  private static Layer appLayer() {
    return new Layer()
        .dir("app", 0755)
        .dir("app/data", 0755)
        .dir("app/private", 0700)
        .dir("app/was-dir", 0755)
        .file("app/data/random.bin", 0644, random(2, 3 * MIB))
        .file("app/data/numbers.txt", 0644, compressible(2, 3 * MIB))
        .hardlink("app/data/numbers-hardlink.txt", "app/data/numbers.txt")
        .file("app/data/owned-by-lab.txt", 0640, text("owned by 1000:1000\n"), 1000, 1000)
        .file("app/private/secret", 0600, text("s3cr3t\n"))
        .file("app/suid", 04755, text("#!/bin/sh\necho setuid\n"))
        .file("app/sgid", 02755, text("#!/bin/sh\necho setgid\n"))
        .symlink("app/current", "data")
        .file("app/was-file", 0644, text("a file in layer 2, a directory in layer 3\n"))
        .file("app/was-dir/inner.txt", 0644, text("gone in layer 3\n"))
        .whiteout("etc/motd")
        .opaque("opt/old")
        .file("opt/old/new.txt", 0644, text("only this survives the opaque whiteout\n"));
  }

  private static Layer updateLayer() {
    String deep =
        "app/very/deep/directory/structure/that/makes/the/path/longer/than/one/hundred/bytes"
            + "/file-with-a-rather-long-name.txt";
    return new Layer()
        .dir("app/was-file", 0755)
        .dir("app/names", 0755)
        .file("app/was-file/inner.txt", 0644, text("now a directory\n"))
        .file("app/was-dir", 0644, text("now a file\n"))
        .file("app/names/with space.txt", 0644, text("space\n"))
        .file("app/names/ünïcödé.txt", 0644, text("unicode\n"))
        .file("app/empty", 0644, new byte[0])
        .file(deep, 0644, text("GNU longname\n"))
        .file("etc/hostname", 0644, text("updated\n"))
        .file("usr/lib/update-random.bin", 0644, random(3, 2 * MIB))
        .file("usr/share/update-text.txt", 0644, compressible(3, 2 * MIB))
        .whiteout("usr/share/doc");
  }

  private static Layer armLayer() {
    return new Layer()
        .dir("bin", 0755)
        .dir("etc", 0755)
        .file("bin/hello", 0755, text("#!/bin/sh\necho hello from arm64\n"))
        .file("etc/arch", 0644, text("arm64\n"));
  }

  private static byte[] text(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Incompressible bytes, the same for the same seed. */
  private static byte[] random(long seed, int size) {
    byte[] b = new byte[size];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  /** Text lines that gzip well, the same for the same seed. */
  private static byte[] compressible(long seed, int size) {
    SplittableRandom r = new SplittableRandom(seed);
    String[] words = {"registry", "layer", "digest", "manifest", "blob", "proxy", "cache", "range"};
    StringBuilder sb = new StringBuilder(size + 100);
    for (long line = 0; sb.length() < size; line++) {
      sb.append("%08d".formatted(line));
      for (int w = 0; w < 8; w++) {
        sb.append(' ').append(words[r.nextInt(words.length)]);
      }
      sb.append('\n');
    }
    sb.setLength(size);
    return text(sb.toString());
  }

  // ------------------------------------------------------------------ blobs and JSON

  /** A map that serializes in the given key order (Map.of order changes between JVM runs). */
  private static Map<String, Object> ordered(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  private static Map<String, Object> platform(String arch, String variant) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("architecture", arch);
    p.put("os", "linux");
    if (variant != null) {
      p.put("variant", variant);
    }
    return p;
  }

  private static Map<String, Object> descriptor(
      String mediaType, Blob b, Map<String, Object> platform) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("mediaType", mediaType);
    d.put("digest", b.digest());
    d.put("size", b.size());
    if (platform != null) {
      d.put("platform", platform);
    }
    return d;
  }

  private static Map<String, Object> refDescriptor(String mediaType, Blob b, String ref) {
    Map<String, Object> d = descriptor(mediaType, b, null);
    d.put("annotations", Map.of("org.opencontainers.image.ref.name", ref));
    return d;
  }

  private Blob writeConfig(String arch, String variant, List<Blob> layers, List<String> history)
      throws IOException {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("created", CREATED);
    c.put("architecture", arch);
    if (variant != null) {
      c.put("variant", variant);
    }
    c.put("os", "linux");
    Map<String, Object> cfg = new LinkedHashMap<>();
    cfg.put("Env", List.of("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
    cfg.put("Cmd", List.of("/bin/sh"));
    cfg.put("WorkingDir", "/");
    c.put("config", cfg);
    c.put(
        "rootfs",
        ordered("type", "layers", "diff_ids", layers.stream().map(Blob::diffId).toList()));
    c.put(
        "history",
        history.stream()
            .map(h -> ordered("created", CREATED, "created_by", "transship e2e layer " + h))
            .toList());
    return writeBlob(JSON.writeValueAsBytes(c));
  }

  private Blob writeManifest(Blob config, List<Blob> layers) throws IOException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("schemaVersion", 2);
    m.put("mediaType", OCI_MANIFEST);
    m.put("config", descriptor(OCI_CONFIG, config, null));
    m.put("layers", layers.stream().map(l -> descriptor(OCI_LAYER_GZIP, l, null)).toList());
    return writeBlob(JSON.writeValueAsBytes(m));
  }

  private Blob writeBlob(byte[] data) throws IOException {
    String hex = FileTree.sha256Hex(data);
    Files.write(layout.resolve("blobs/sha256").resolve(hex), data);
    return new Blob("sha256:" + hex, data.length, null);
  }

  /** Materializes the layer, tars it with GNU tar, gzips it into the layout. */
  private Blob writeLayer(Layer layer, String name) throws IOException {
    Path work = dir.resolve("work");
    Path root = Files.createDirectories(work.resolve(name));
    layer.materialize(root, asRoot);
    Path tar = work.resolve(name + ".tar");
    List<String> cmd =
        new ArrayList<>(List.of("tar", "--numeric-owner", "--format=gnu", "--sort=name"));
    cmd.add("--mtime=@" + MTIME);
    if (!asRoot) {
      cmd.addAll(List.of("--owner=0", "--group=0")); // cannot chown without root
    }
    cmd.addAll(List.of("-C", root.toString(), "-cf", tar.toString(), "."));
    Cmd.of(cmd).ok();
    Path gz = work.resolve(name + ".tar.gz");
    MessageDigest diff = sha256();
    MessageDigest comp = sha256();
    try (InputStream in = new DigestInputStream(Files.newInputStream(tar), diff);
        OutputStream out =
            new GZIPOutputStream(
                new DigestOutputStream(Files.newOutputStream(gz), comp), 1 << 16)) {
      in.transferTo(out);
    }
    String hex = HexFormat.of().formatHex(comp.digest());
    long size = Files.size(gz);
    Files.move(
        gz, layout.resolve("blobs/sha256").resolve(hex), StandardCopyOption.REPLACE_EXISTING);
    Files.delete(tar);
    E2eEnv.deleteTree(root);
    return new Blob("sha256:" + hex, size, "sha256:" + HexFormat.of().formatHex(diff.digest()));
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // ------------------------------------------------------------------ the layer model

  private sealed interface Entry {
    String path();
  }

  private record DirEntry(String path, int mode, int uid, int gid) implements Entry {}

  private record FileEntry(String path, int mode, byte[] content, int uid, int gid)
      implements Entry {}

  private record SymlinkEntry(String path, String target) implements Entry {}

  private record HardlinkEntry(String path, String target) implements Entry {}

  /** Removes {@code path} of lower layers: written as {@code <parent>/.wh.<name>}. */
  private record WhiteoutEntry(String path) implements Entry {}

  /** Hides everything lower layers put in directory {@code path}: {@code <path>/.wh..wh..opq}. */
  private record OpaqueEntry(String path) implements Entry {}

  /** One layer's changes; parent directories not declared are added with mode 0755. */
  private static final class Layer {
    private final List<Entry> entries = new ArrayList<>();

    Layer dir(String p, int mode) {
      entries.add(new DirEntry(p, mode, 0, 0));
      return this;
    }

    Layer file(String p, int mode, byte[] content) {
      return file(p, mode, content, 0, 0);
    }

    Layer file(String p, int mode, byte[] content, int uid, int gid) {
      entries.add(new FileEntry(p, mode, content, uid, gid));
      return this;
    }

    Layer symlink(String p, String target) {
      entries.add(new SymlinkEntry(p, target));
      return this;
    }

    Layer hardlink(String p, String target) {
      entries.add(new HardlinkEntry(p, target));
      return this;
    }

    Layer whiteout(String p) {
      entries.add(new WhiteoutEntry(p));
      return this;
    }

    Layer opaque(String p) {
      entries.add(new OpaqueEntry(p));
      return this;
    }

    /** Entries plus implicit parent directories (first, shallowest first). */
    List<Entry> completed() {
      Set<String> declared = new LinkedHashSet<>();
      for (Entry e : entries) {
        if (e instanceof DirEntry) {
          declared.add(e.path());
        }
      }
      Set<String> parents =
          new java.util.TreeSet<>(
              Comparator.comparingInt((String s) -> s.split("/").length).thenComparing(s -> s));
      for (Entry e : entries) {
        String p = e instanceof OpaqueEntry ? e.path() + "/x" : e.path();
        for (int i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) {
          String parent = p.substring(0, i);
          if (!declared.contains(parent)) {
            parents.add(parent);
          }
        }
      }
      List<Entry> all = new ArrayList<>();
      parents.forEach(p -> all.add(new DirEntry(p, 0755, 0, 0)));
      all.addAll(entries);
      return all;
    }

    private FileEntry fileAt(String p) {
      return entries.stream()
          .filter(e -> e instanceof FileEntry && e.path().equals(p))
          .map(FileEntry.class::cast)
          .findFirst()
          .orElseThrow(() -> new IllegalStateException("hardlink target not in layer: " + p));
    }

    /** Writes the layer's files under {@code root}, with modes and (as root) ownership. */
    void materialize(Path root, boolean asRoot) throws IOException {
      List<Entry> all = completed();
      for (Entry e : all) {
        if (e instanceof DirEntry) {
          Files.createDirectories(root.resolve(e.path()));
        }
      }
      for (Entry e : all) {
        Path p = root.resolve(e.path());
        switch (e) {
          case FileEntry f -> Files.write(p, f.content());
          case SymlinkEntry s -> Files.createSymbolicLink(p, Path.of(s.target()));
          case WhiteoutEntry w ->
              Files.write(p.resolveSibling(".wh." + p.getFileName()), new byte[0]);
          case OpaqueEntry o -> Files.write(p.resolve(".wh..wh..opq"), new byte[0]);
          default -> {}
        }
      }
      for (Entry e : all) {
        if (e instanceof HardlinkEntry h) {
          Files.createLink(root.resolve(h.path()), root.resolve(h.target()));
        }
      }
      for (Entry e : all) {
        if (e instanceof FileEntry f) {
          setOwnerAndMode(root.resolve(f.path()), f.mode(), f.uid(), f.gid(), asRoot);
        }
      }
      // directories last, deepest first, so that read-only modes do not block the writes above
      List<DirEntry> dirs = new ArrayList<>();
      for (Entry e : all) {
        if (e instanceof DirEntry d) {
          dirs.add(d);
        }
      }
      dirs.sort(Comparator.comparingInt((DirEntry d) -> d.path().length()).reversed());
      for (DirEntry d : dirs) {
        setOwnerAndMode(root.resolve(d.path()), d.mode(), d.uid(), d.gid(), asRoot);
      }
      Files.setAttribute(root, "unix:mode", 0755);
    }

    private static void setOwnerAndMode(Path p, int mode, int uid, int gid, boolean asRoot)
        throws IOException {
      if (asRoot) {
        Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
      }
      Files.setAttribute(p, "unix:mode", mode); // after chown, which clears setuid/setgid
    }

    /** Applies this layer to {@code tree} as an unpacker does: whiteouts first, then entries. */
    void applyTo(SortedMap<String, FileTree.Node> tree, boolean asRoot) {
      for (Entry e : entries) {
        if (e instanceof OpaqueEntry o) {
          removeBelow(tree, o.path());
        }
      }
      for (Entry e : entries) {
        if (e instanceof WhiteoutEntry w) {
          tree.remove(w.path());
          removeBelow(tree, w.path());
        }
      }
      for (Entry e : completed()) {
        FileTree.Node node =
            switch (e) {
              case DirEntry d ->
                  FileTree.Node.dir(d.mode(), owner(d.uid(), asRoot), owner(d.gid(), asRoot));
              case FileEntry f ->
                  FileTree.Node.file(
                      f.mode(), owner(f.uid(), asRoot), owner(f.gid(), asRoot), f.content());
              case SymlinkEntry s -> FileTree.Node.symlink(s.target(), 0, 0);
              case HardlinkEntry h -> {
                FileEntry t = fileAt(h.target());
                yield FileTree.Node.file(
                    t.mode(), owner(t.uid(), asRoot), owner(t.gid(), asRoot), t.content());
              }
              default -> null;
            };
        if (node == null) {
          continue;
        }
        FileTree.Node old = tree.get(e.path());
        if (old != null && !(old.type() == FileTree.Type.DIR && node.type() == FileTree.Type.DIR)) {
          tree.remove(e.path());
          removeBelow(tree, e.path());
        }
        tree.put(e.path(), node);
      }
    }

    private static int owner(int id, boolean asRoot) {
      return asRoot ? id : 0;
    }

    private static void removeBelow(SortedMap<String, FileTree.Node> tree, String dir) {
      tree.subMap(dir + "/", dir + "0").clear(); // '0' is the character after '/'
    }
  }
}
