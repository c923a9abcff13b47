package io.transship.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A private podman (4.3) store and configuration: {@code containers.conf}, {@code storage.conf} and
 * {@code registries.conf} in {@code env}'s directory {@code podman-<name>}, passed through {@code
 * CONTAINERS_CONF}, {@code CONTAINERS_STORAGE_CONF} and {@code CONTAINERS_REGISTRIES_CONF}, so
 * nothing of the machine's own configuration or storage is used or changed. Needs root (no systemd:
 * runc, cgroupfs, file events log, host network).
 *
 * <p>The graph root, run root and podman's temporary directories live in a SHORT directory {@code
 * /tmp/tsp-<n>} outside the test directory: with a run root of about 55 characters or more, every
 * {@code podman run} hangs until conmon's timeout (socket paths get too long).
 *
 * <ul>
 *   <li>{@link #vfs}: the vfs driver, plain pulls (every layer a full directory; no mounts).
 *   <li>{@link #partial}: overlay with {@code enable_partial_images = "true"}: eStargz and
 *       zstd:chunked layers are then fetched with Range requests (only what is missing locally).
 * </ul>
 *
 * {@link #registries(String)} appends {@code [[registry]]} tables, e.g. {@link #mirrorToml}.
 */
public final class Podman implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** containers/storage's {@code archive.Compression} in {@code layers.json}. */
  public static final int COMPRESSION_GZIP = 2;

  public static final int COMPRESSION_ZSTD = 4;

  private final String name;
  private final String driver;
  private final boolean partialPulls;
  private final Path conf;
  private final Path store;
  private final List<String> mountedImages = new ArrayList<>();

  private Podman(String name, String driver, boolean partialPulls, Path conf, Path store) {
    this.name = name;
    this.driver = driver;
    this.partialPulls = partialPulls;
    this.conf = conf;
    this.store = store;
  }

  /** A fresh store with the vfs driver and partial pulls off. */
  public static Podman vfs(E2eEnv env, String name) {
    return create(env, name, "vfs", false);
  }

  /**
   * A fresh store with the overlay driver and partial pulls on ({@code enable_partial_images}), for
   * eStargz and zstd:chunked images; {@code podman pull} then fetches layer parts with
   * (multi-)Range GETs.
   */
  public static Podman partial(E2eEnv env, String name) {
    return create(env, name, "overlay", true);
  }

  /** A fresh store with the given driver ({@code vfs} or {@code overlay}) and partial pulls. */
  public static Podman create(E2eEnv env, String name, String driver, boolean partialPulls) {
    Tools.require("podman", "runc");
    Tools.requireRoot("podman runs as root here (private storage, no user namespaces)");
    Podman p =
        env.track(new Podman(name, driver, partialPulls, env.dir("podman-" + name), shortDir()));
    p.writeConfig();
    System.out.printf("[e2e] %s%n", p);
    return p;
  }

  /** {@code /tmp/tsp-<n>}, created atomically with the first free n. */
  private static Path shortDir() {
    for (int n = 1; ; n++) {
      try {
        return Files.createDirectory(Path.of("/tmp", "tsp-" + n));
      } catch (FileAlreadyExistsException e) {
        // taken (another test or JVM): next
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private void writeConfig() {
    try {
      Files.createDirectories(store.resolve("tmp"));
      Files.createDirectories(store.resolve("copy"));
      Files.writeString(
          conf.resolve("storage.conf"),
          """
          [storage]
          driver = "%s"
          runroot = "%s"
          graphroot = "%s"
          [storage.options]
          pull_options = {enable_partial_images = "%s", use_hard_links = "false", \
          ostree_repos = ""}
          """
              .formatted(driver, runRoot(), graphRoot(), partialPulls));
      Files.writeString(
          conf.resolve("containers.conf"),
          """
          [engine]
          runtime = "runc"
          cgroup_manager = "cgroupfs"
          events_logger = "file"
          events_logfile_path = "%1$s/events.log"
          tmp_dir = "%2$s/tmp"
          image_copy_tmp_dir = "%2$s/copy"
          [containers]
          default_ulimits = ["nofile=20000:20000", "nproc=1024:1024"]
          netns = "host"
          [network]
          network_config_dir = "%1$s/networks"
          """
              .formatted(conf, store));
      Files.writeString(
          conf.resolve("policy.json"), "{\"default\":[{\"type\":\"insecureAcceptAnything\"}]}\n");
      Files.writeString(conf.resolve("auth.json"), "{\"auths\":{}}\n");
      registries("");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Replaces {@code registries.conf} with no unqualified-search registries and {@code toml} (its
   * {@code [[registry]]} tables).
   */
  public Podman registries(String toml) {
    try {
      Files.writeString(
          conf.resolve("registries.conf"), "unqualified-search-registries = []\n\n" + toml);
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A {@code [[registry]]} table for {@code registry} (host:port, plain HTTP) whose first pull
   * source is the mirror {@code mirrorLocation} (host:port[/namespace], plain HTTP).
   */
  public static String mirrorToml(String registry, String mirrorLocation) {
    return """
    [[registry]]
    prefix = "%1$s"
    location = "%1$s"
    insecure = true

    [[registry.mirror]]
    location = "%2$s"
    insecure = true
    """
        .formatted(registry, mirrorLocation);
  }

  private Map<String, String> environment() {
    Map<String, String> e = new HashMap<>();
    e.put("CONTAINERS_CONF", conf.resolve("containers.conf").toString());
    e.put("CONTAINERS_STORAGE_CONF", conf.resolve("storage.conf").toString());
    e.put("CONTAINERS_REGISTRIES_CONF", conf.resolve("registries.conf").toString());
    e.put("REGISTRY_AUTH_FILE", conf.resolve("auth.json").toString());
    e.put("TMPDIR", store.resolve("tmp").toString());
    return e;
  }

  /** {@code podman <args>} with this store's configuration, not yet run (timeout 2 min). */
  public Cmd podman(String... args) {
    List<String> all = new ArrayList<>(List.of("podman"));
    all.addAll(List.of(args));
    return Cmd.of(all).env(environment()).timeout(Duration.ofMinutes(2));
  }

  /**
   * {@code podman pull [extra] ref} with the private signature policy (accept anything), not yet
   * run. Add {@code --tls-verify=false} for plain HTTP without a registries.conf entry.
   */
  public Cmd pull(String ref, String... extra) {
    List<String> all =
        new ArrayList<>(
            List.of("pull", "--signature-policy", conf.resolve("policy.json").toString()));
    all.addAll(List.of(extra));
    all.add(ref);
    return podman(all.toArray(String[]::new));
  }

  /** {@code podman image inspect ref}: the single object of the array. */
  public JsonNode inspect(String ref) {
    JsonNode all = json(podman("image", "inspect", ref).ok().stdoutBytes());
    if (!all.isArray() || all.size() != 1) {
      throw new AssertionError("podman image inspect " + ref + ": not one image: " + all);
    }
    return all.get(0);
  }

  /**
   * {@code podman image mount ref}: the image's root file system (for vfs a plain directory in the
   * store, for overlay a read-only overlay mount); unmounted in {@link #close()} at the latest.
   */
  public Path mountImage(String ref) {
    String out = podman("image", "mount", ref).ok().stdout().strip();
    mountedImages.add(ref);
    return Path.of(out.lines().toList().getLast().strip());
  }

  public void unmountImage(String ref) {
    podman("image", "unmount", ref).run();
    mountedImages.remove(ref);
  }

  /**
   * One layer as containers/storage recorded it in {@code <graphroot>/<driver>-layers/layers.json}:
   * {@code compressedDigest} is the blob pulled, {@code uncompressedDigest} the sha256 of the tar
   * storage applied (computed while applying: podman itself does not compare it with the config's
   * diff_ids), {@code compression} an {@code archive.Compression} ({@link #COMPRESSION_ZSTD}).
   */
  public record StoredLayer(
      String id,
      String parent,
      String compressedDigest,
      long compressedSize,
      String uncompressedDigest,
      long uncompressedSize,
      int compression,
      JsonNode raw) {}

  /** The layers of the image {@code imageId} (podman's Id), bottom first. */
  public List<StoredLayer> layersOf(String imageId) {
    String top = null;
    for (JsonNode img : readStoreJson("images", "images.json")) {
      if (img.path("id").asText().equals(imageId)) {
        top = img.path("layer").asText();
      }
    }
    if (top == null) {
      throw new AssertionError("image " + imageId + " not in " + driver + "-images/images.json");
    }
    Map<String, StoredLayer> byId = new HashMap<>();
    for (JsonNode l : readStoreJson("layers", "layers.json")) {
      StoredLayer s =
          new StoredLayer(
              l.path("id").asText(),
              l.path("parent").asText(""),
              l.path("compressed-diff-digest").asText(""),
              l.path("compressed-size").asLong(-1),
              l.path("diff-digest").asText(""),
              l.path("diff-size").asLong(-1),
              l.path("compression").asInt(-1),
              l);
      byId.put(s.id(), s);
    }
    List<StoredLayer> chain = new ArrayList<>();
    for (String id = top; id != null && !id.isEmpty(); ) {
      StoredLayer s = byId.get(id);
      if (s == null) {
        throw new AssertionError("layer " + id + " not in " + driver + "-layers/layers.json");
      }
      chain.addFirst(s);
      id = s.parent();
    }
    return chain;
  }

  private JsonNode readStoreJson(String kind, String file) {
    Path p = graphRoot().resolve(driver + "-" + kind).resolve(file);
    try {
      return JSON.readTree(p.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * This store as a skopeo/containers-image reference: {@code
   * containers-storage:[driver@graphroot+runroot]ref}, e.g. to read the stored manifest with {@code
   * skopeo inspect --raw}.
   */
  public String storageRef(String ref) {
    return "containers-storage:[" + driver + "@" + graphRoot() + "+" + runRoot() + "]" + ref;
  }

  public Path graphRoot() {
    return store.resolve("root");
  }

  public Path runRoot() {
    return store.resolve("run");
  }

  public Path configDir() {
    return conf;
  }

  public String driver() {
    return driver;
  }

  public boolean partialPulls() {
    return partialPulls;
  }

  private static JsonNode json(byte[] b) {
    try {
      return JSON.readTree(b);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    for (String ref : List.copyOf(mountedImages)) {
      unmountImage(ref);
    }
    if (Boolean.getBoolean("transship.e2e.keep")) {
      System.out.println("[e2e] keeping podman store " + store + " (-Dtransship.e2e.keep=true)");
      return;
    }
    // not "podman system reset": it also deletes networks and other machine-wide state
    podman("rmi", "--all", "--force").timeout(Duration.ofMinutes(1)).run();
    E2eEnv.unmountAllBelow(store);
    E2eEnv.deleteTree(store);
  }

  @Override
  public String toString() {
    return "podman "
        + name
        + " ("
        + driver
        + (partialPulls ? ", partial pulls" : "")
        + ", store "
        + store
        + ", config "
        + conf
        + ")";
  }
}
