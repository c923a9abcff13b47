package io.transship.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Loads {@link TransshipConfig}: embedded {@code defaults.yaml}, merged with an optional YAML file,
 * then with environment overrides.
 *
 * <p>An environment variable {@code TRANSSHIP_A__B__C=value} sets key path {@code a.b.c}: segments
 * are separated by a double underscore and compared with existing keys ignoring case, where {@code
 * _} in the variable stands for {@code -} or {@code .} in the key. So {@code
 * TRANSSHIP_UPSTREAMS__DOCKER_IO__PASSWORD} sets {@code upstreams."docker.io".password} and {@code
 * TRANSSHIP_STORAGE__FILESYSTEM__MAX_BYTES=10GiB} sets {@code storage.filesystem.max-bytes}.
 */
public final class ConfigLoader {
  static final String ENV_PREFIX = "TRANSSHIP_";
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private ConfigLoader() {}

  /** Loads the configuration; {@code file} may be null for defaults only. */
  public static TransshipConfig load(Path file, Map<String, String> environment) {
    return bind(loadTree(file, environment));
  }

  /**
   * The effective configuration tree: defaults, the file and the environment merged, every key
   * checked against {@link ConfigSchema} (an unknown key or {@code TRANSSHIP_*} variable is a
   * {@link ConfigException} naming the nearest known one).
   */
  public static ObjectNode loadTree(Path file, Map<String, String> environment) {
    ObjectNode tree = readDefaults();
    ConfigSchema schema = ConfigSchema.of(tree.deepCopy());
    if (file != null) {
      JsonNode user;
      if (!Files.isRegularFile(file)) {
        throw new ConfigException("config file " + file + " does not exist");
      }
      try {
        user = YAML.readTree(Files.readAllBytes(file));
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        var at = e.getLocation();
        throw new ConfigException(
            "config "
                + file
                + " is not valid YAML"
                + (at == null ? "" : " (line " + at.getLineNr() + ")")
                + ": "
                + e.getOriginalMessage().lines().findFirst().orElse(""));
      } catch (IOException e) {
        throw new ConfigException("cannot read config " + file + ": " + e.getMessage());
      }
      if (user != null && !user.isMissingNode() && !user.isNull()) {
        if (!user.isObject()) {
          throw new ConfigException("config " + file + " must be a YAML mapping");
        }
        schema.validate(user, file.toString());
        merge(tree, (ObjectNode) user);
      }
    }
    applyEnvironment(tree, environment, schema);
    return tree;
  }

  /** The schema of the embedded defaults: every known key. */
  public static ConfigSchema schema() {
    return ConfigSchema.of(readDefaults());
  }

  private static ObjectNode readDefaults() {
    try (InputStream in = ConfigLoader.class.getResourceAsStream("/defaults.yaml")) {
      return (ObjectNode) YAML.readTree(in);
    } catch (IOException | NullPointerException e) {
      throw new IllegalStateException("embedded defaults.yaml missing", e);
    }
  }

  static void merge(ObjectNode base, ObjectNode overlay) {
    Iterator<Map.Entry<String, JsonNode>> fields = overlay.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      JsonNode existing = base.get(field.getKey());
      if (field.getValue().isNull()) {
        base.remove(field.getKey());
      } else if (existing instanceof ObjectNode target
          && field.getValue() instanceof ObjectNode o) {
        merge(target, o);
      } else {
        base.set(field.getKey(), field.getValue());
      }
    }
  }

  static void applyEnvironment(
      ObjectNode tree, Map<String, String> environment, ConfigSchema schema) {
    for (Map.Entry<String, String> env : new TreeMap<>(environment).entrySet()) {
      if (!env.getKey().startsWith(ENV_PREFIX)
          || ConfigSchema.NON_CONFIG_VARIABLES.contains(env.getKey())) {
        continue;
      }
      String[] segments = env.getKey().substring(ENV_PREFIX.length()).split("__");
      List<String> keys = schema.resolveVariable(env.getKey(), segments, tree);
      ObjectNode node = tree;
      for (int i = 0; i < keys.size(); i++) {
        String key = keys.get(i);
        if (i == keys.size() - 1) {
          if (node.get(key) instanceof com.fasterxml.jackson.databind.node.ArrayNode) {
            // a list from the environment: comma-separated
            var list = node.putArray(key);
            for (String item : env.getValue().split(",")) {
              if (!item.isBlank()) {
                list.add(item.trim());
              }
            }
          } else {
            node.put(key, env.getValue());
          }
        } else {
          JsonNode child = node.get(key);
          if (!(child instanceof ObjectNode)) {
            child = node.putObject(key);
          }
          node = (ObjectNode) child;
        }
      }
    }
  }

  /** Binds a tree from {@link #loadTree} into records, checking every value. */
  public static TransshipConfig bind(ObjectNode tree) {
    JsonNode fs = tree.path("storage").path("filesystem");
    var storage =
        new TransshipConfig.StorageConfig(
            Path.of(text(fs, "root", "storage.filesystem.root")),
            bytes(fs, "max-bytes", "storage.filesystem.max-bytes"),
            bindS3(tree.path("storage").path("s3")));
    JsonNode upstreamDefaults = tree.path("upstream-defaults");
    Map<String, UpstreamConfig> upstreams = new LinkedHashMap<>();
    JsonNode upstreamNodes = tree.path("upstreams");
    Iterator<Map.Entry<String, JsonNode>> it = upstreamNodes.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> entry = it.next();
      if (entry.getValue().isNull()) {
        continue;
      }
      if (!entry.getValue().isObject()) {
        throw new ConfigException(
            "upstreams." + entry.getKey() + " must be a mapping, e.g. { url: https://... }");
      }
      ObjectNode merged = JsonNodeFactory.instance.objectNode();
      if (upstreamDefaults.isObject()) {
        merged.setAll((ObjectNode) upstreamDefaults.deepCopy());
      }
      merge(merged, (ObjectNode) entry.getValue());
      upstreams.put(entry.getKey(), bindUpstream(entry.getKey(), merged));
    }
    try {
      String listen = tree.path("listen").asText("");
      return new TransshipConfig(
          listen.isEmpty() ? null : HostPort.parse(listen),
          HostPort.parse(text(tree.path("admin"), "listen", "admin.listen")),
          storage,
          duration(tree.path("cache"), "tag-ttl", "cache.tag-ttl"),
          tree.path("default-upstream").asText(""),
          upstreams,
          bindConversion(tree.path("conversion")),
          bindConnections(tree.path("connections")),
          bytes(tree.path("cache"), "max-blob-bytes", "cache.max-blob-bytes"),
          EdgeConfigBinder.bind(tree),
          tree.path("server").hasNonNull("drain-timeout")
              ? duration(tree.path("server"), "drain-timeout", "server.drain-timeout")
              : TransshipConfig.DEFAULT_DRAIN_TIMEOUT);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
  }

  private static ServerLimits bindConnections(JsonNode node) {
    return new ServerLimits(
        duration(node, "header-timeout", "connections.header-timeout"),
        duration(node, "idle-timeout", "connections.idle-timeout"),
        count(node, "max", "connections.max"),
        count(node, "max-per-address", "connections.max-per-address"),
        (int)
            Math.min(
                Integer.MAX_VALUE, bytes(node, "max-request-line", "connections.max-request-line")),
        (int)
            Math.min(
                Integer.MAX_VALUE,
                bytes(node, "max-header-bytes", "connections.max-header-bytes")));
  }

  private static int count(JsonNode node, String field, String path) {
    try {
      return Integer.parseInt(text(node, field, path).trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(path + " must be a whole number");
    }
  }

  private static TransshipConfig.S3Settings bindS3(JsonNode node) {
    String bucket = node.path("bucket").asText("");
    if (bucket.isEmpty()) {
      return null;
    }
    String endpoint = node.path("endpoint").asText("");
    String keyId = node.path("access-key-id").asText("");
    String secret = node.path("secret-access-key").asText("");
    if (keyId.isEmpty() != secret.isEmpty()) {
      throw new ConfigException(
          "storage.s3.access-key-id and secret-access-key must be set together (or neither)");
    }
    JsonNode presign = node.path("presign");
    try {
      return new TransshipConfig.S3Settings(
          bucket,
          node.path("prefix").asText(""),
          node.path("region").asText("").isEmpty() ? null : node.path("region").asText(),
          endpoint.isEmpty() ? null : java.net.URI.create(endpoint),
          node.path("path-style").asBoolean(false),
          keyId.isEmpty() ? null : keyId,
          secret.isEmpty() ? null : secret,
          node.has("part-size") ? bytes(node, "part-size", "storage.s3.part-size") : 16L << 20,
          presign.path("enabled").asBoolean(false),
          presign.has("expiry")
              ? duration(presign, "expiry", "storage.s3.presign.expiry")
              : Duration.ofMinutes(5));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("storage.s3: " + e.getMessage());
    }
  }

  private static ConversionConfig bindConversion(JsonNode node) {
    int cores = Runtime.getRuntime().availableProcessors();
    int threads = node.path("zstd-threads").asInt(0);
    int workers = node.path("workers").asInt(0);
    // one CPU budget: layers at once x threads per layer = the cores, unless set explicitly
    int perLayer = threads > 0 ? threads : Math.min(4, cores);
    String unknown = node.path("unknown-clients").asText("convert");
    if (!unknown.equals("convert") && !unknown.equals("original")) {
      throw new ConfigException("conversion.unknown-clients must be convert or original");
    }
    int level = node.path("zstd-level").asInt(3);
    if (level < 1 || level > 19) {
      throw new ConfigException("conversion.zstd-level must be between 1 and 19");
    }
    JsonNode estargz = node.path("estargz");
    int estargzLevel = estargz.path("level").asInt(6);
    if (estargzLevel < 1 || estargzLevel > 9) {
      throw new ConfigException("conversion.estargz.level must be between 1 and 9");
    }
    long chunk =
        estargz.has("chunk-size")
            ? bytes(estargz, "chunk-size", "conversion.estargz.chunk-size")
            : 4L << 20;
    if (chunk < 64 * 1024 || chunk > 64L << 20) {
      throw new ConfigException("conversion.estargz.chunk-size must be between 64KiB and 64MiB");
    }
    List<ConversionConfig.PrefetchRule> prefetch = new ArrayList<>();
    for (JsonNode rule : estargz.path("prefetch")) {
      String match = rule.path("match").asText("");
      if (match.isEmpty() || !rule.path("files").isArray()) {
        throw new ConfigException(
            "conversion.estargz.prefetch entries need match: <glob> and files: [paths]");
      }
      List<String> files = new ArrayList<>();
      rule.path("files").forEach(f -> files.add(f.asText()));
      prefetch.add(new ConversionConfig.PrefetchRule(match, files));
    }
    return new ConversionConfig(
        node.has("deadline")
            ? duration(node, "deadline", "conversion.deadline")
            : Duration.ofSeconds(20),
        level,
        perLayer,
        workers > 0 ? workers : Math.max(1, cores / perLayer),
        node.path("include-uncompressed").asBoolean(false),
        unknown.equals("convert"),
        estargzLevel,
        (int) chunk,
        prefetch,
        bindInflationLimits(node));
  }

  private static io.transship.converter.InflationLimits bindInflationLimits(JsonNode node) {
    long maxInflated = bytes(node, "max-inflated-bytes", "conversion.max-inflated-bytes");
    int ratio = count(node, "max-inflation-ratio", "conversion.max-inflation-ratio");
    int entries = count(node, "max-tar-entries", "conversion.max-tar-entries");
    try {
      return new io.transship.converter.InflationLimits(
          maxInflated <= 0 ? Long.MAX_VALUE : maxInflated,
          Math.max(0, ratio),
          entries <= 0 ? Long.MAX_VALUE : entries);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("conversion: " + e.getMessage());
    }
  }

  private static UpstreamConfig bindUpstream(String alias, JsonNode node) {
    String where = "upstreams." + alias;
    URI url;
    try {
      url = URI.create(text(node, "url", where + ".url").replaceAll("/+$", ""));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(where + ".url is not a URL");
    }
    if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())) {
      throw new ConfigException(where + ".url must start with http:// or https://");
    }
    List<String> hosts = new ArrayList<>();
    if (node.has("hosts")) {
      node.get("hosts").forEach(h -> hosts.add(h.asText()));
    } else {
      hosts.add(alias);
      hosts.add(url.getPort() < 0 ? url.getHost() : url.getHost() + ":" + url.getPort());
    }
    try {
      return new UpstreamConfig(
          alias,
          url,
          hosts,
          node.path("library-prefix").asBoolean(false),
          node.hasNonNull("username") ? node.get("username").asText() : null,
          node.hasNonNull("password") ? node.get("password").asText() : null,
          node.path("insecure-skip-verify").asBoolean(false),
          node.hasNonNull("ca-file") ? Path.of(node.get("ca-file").asText()) : null,
          duration(node, "connect-timeout", where + ".connect-timeout"),
          duration(node, "response-timeout", where + ".response-timeout"),
          duration(node, "body-idle-timeout", where + ".body-idle-timeout"),
          Integer.parseInt(text(node, "max-attempts", where + ".max-attempts")),
          Formats.parse(node.path("format").asText("none"), where + ".format"));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(where + ": " + e.getMessage());
    }
  }

  private static long bytes(JsonNode node, String field, String path) {
    try {
      return Sizes.parseBytes(text(node, field, path));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(path + ": " + e.getMessage());
    }
  }

  private static Duration duration(JsonNode node, String field, String path) {
    try {
      return Sizes.parseDuration(text(node, field, path));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(path + ": " + e.getMessage());
    }
  }

  private static String text(JsonNode node, String field, String path) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull() || value.asText().isEmpty()) {
      throw new ConfigException("missing config key " + path);
    }
    return value.asText();
  }
}
