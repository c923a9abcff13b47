package io.transship.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The set of valid configuration keys, derived from the embedded {@code defaults.yaml} tree, which
 * lists every key: a key added there is known here without further code. Three shapes are not plain
 * sections and are declared below: {@code upstreams} (a map from alias to upstream settings), the
 * keys only an upstream can have (no shared default), and the keys of list entries.
 *
 * <p>A mapping that is empty ({@code {}}) in the defaults is free-form: any key is accepted there.
 */
public final class ConfigSchema {
  /** Maps whose keys the user chooses; each value has the keys of the named template. */
  private static final Map<String, String> NAMED_MAPS = Map.of("upstreams", "upstream-defaults");

  /** Keys an upstream may have that no shared default has (credentials, identity, trust). */
  static final Set<String> UPSTREAM_ONLY_KEYS =
      Set.of("url", "hosts", "library-prefix", "username", "password", "ca-file");

  /** Keys of the entries of list-valued settings. */
  private static final Map<String, Set<String>> LIST_ENTRY_KEYS =
      Map.of("conversion.estargz.prefetch", Set.of("match", "files"));

  /**
   * {@code TRANSSHIP_*} variables that are not configuration keys but are read by transship or its
   * scripts: the config file, the log level, JVM flags, the CLI's admin URL and token, the native
   * inflate switch and the benchmarks' jar.
   */
  public static final Set<String> NON_CONFIG_VARIABLES =
      Set.of(
          "TRANSSHIP_CONFIG",
          "TRANSSHIP_LOG_LEVEL",
          "TRANSSHIP_JAVA_OPTS",
          "TRANSSHIP_ADMIN_URL",
          "TRANSSHIP_ADMIN_TOKEN",
          "TRANSSHIP_GZIP_NATIVE",
          "TRANSSHIP_JAR");

  /** One node of the schema. */
  static final class Node {
    final Map<String, Node> children = new LinkedHashMap<>();
    Node entry; // for named maps: the schema of every value
    boolean freeForm;
    boolean leaf;
    Set<String> listEntryKeys;

    boolean isSection() {
      return !leaf && !freeForm && entry == null;
    }
  }

  private final Node root;

  private ConfigSchema(Node root) {
    this.root = root;
  }

  /** The schema of a defaults tree. */
  public static ConfigSchema of(ObjectNode defaults) {
    return new ConfigSchema(section(defaults, defaults, ""));
  }

  private static Node section(ObjectNode defaults, JsonNode node, String path) {
    Node result = new Node();
    if (node.isObject() && node.isEmpty()) {
      result.freeForm = true;
      return result;
    }
    if (!node.isObject()) {
      result.leaf = true;
      result.listEntryKeys = LIST_ENTRY_KEYS.get(path);
      return result;
    }
    Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      String childPath = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
      String template = NAMED_MAPS.get(childPath);
      if (template != null) {
        Node map = new Node();
        map.entry = entrySchema(defaults, template, field.getValue(), childPath);
        result.children.put(field.getKey(), map);
      } else {
        result.children.put(field.getKey(), section(defaults, field.getValue(), childPath));
      }
    }
    return result;
  }

  /** The keys of a named map's values: the template's, every default entry's, the only-keys. */
  private static Node entrySchema(
      ObjectNode defaults, String template, JsonNode entries, String path) {
    Node entry = section(defaults, defaults.path(template), template);
    entry.leaf = false;
    for (JsonNode value : entries) {
      if (value.isObject()) {
        section(defaults, value, path + ".<alias>").children.forEach(entry.children::putIfAbsent);
      }
    }
    for (String key : UPSTREAM_ONLY_KEYS) {
      Node leaf = new Node();
      leaf.leaf = true;
      entry.children.putIfAbsent(key, leaf);
    }
    return entry;
  }

  /**
   * Every known key path, leaves only, with {@code <alias>} standing for the user's names: e.g.
   * {@code storage.filesystem.root}, {@code upstreams.<alias>.url}.
   */
  public Set<String> keys() {
    Set<String> keys = new TreeSet<>();
    collect(root, "", keys);
    return keys;
  }

  private static void collect(Node node, String path, Set<String> into) {
    if (node.leaf || node.freeForm) {
      into.add(path);
      return;
    }
    if (node.entry != null) {
      collect(node.entry, path + ".<alias>", into);
      return;
    }
    node.children.forEach((k, v) -> collect(v, path.isEmpty() ? k : path + "." + k, into));
  }

  /**
   * Checks a user's tree (from {@code source}, e.g. the file name) against the schema; throws a
   * one-line {@link ConfigException} for the first unknown key, naming the nearest known one.
   */
  public void validate(JsonNode tree, String source) {
    validate(root, tree, "", source);
  }

  private void validate(Node schema, JsonNode value, String path, String source) {
    if (value == null || value.isNull() || schema.freeForm) {
      return;
    }
    if (schema.leaf) {
      if (value.isObject()) {
        throw new ConfigException(
            path + " in " + source + " takes a value, not a mapping (" + shape(value) + ")");
      }
      if (schema.listEntryKeys != null && value.isArray()) {
        for (JsonNode item : value) {
          Iterator<String> names = item.fieldNames();
          while (names.hasNext()) {
            String name = names.next();
            if (!schema.listEntryKeys.contains(name)) {
              throw new ConfigException(
                  "unknown key '"
                      + name
                      + "' in an entry of "
                      + path
                      + " in "
                      + source
                      + ": entries have "
                      + new TreeSet<>(schema.listEntryKeys));
            }
          }
        }
      }
      return;
    }
    if (!value.isObject()) {
      throw new ConfigException(
          path
              + " in "
              + source
              + " is a section, not a value: set its keys, e.g. "
              + firstKey(schema, path));
    }
    Iterator<Map.Entry<String, JsonNode>> fields = value.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      String childPath = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
      Node child = schema.entry != null ? schema.entry : schema.children.get(field.getKey());
      if (child == null) {
        String typed = childPath + firstLeaf(field.getValue());
        throw new ConfigException(
            "unknown key '"
                + typed
                + "' in "
                + source
                + "; did you mean '"
                + nearest(typed, path)
                + "'?");
      }
      validate(child, field.getValue(), childPath, source);
    }
  }

  /** {@code .a.b} for {@code {a: {b: 1}}}: the typed path down to the first value. */
  private static String firstLeaf(JsonNode value) {
    StringBuilder path = new StringBuilder();
    while (value != null && value.isObject() && !value.isEmpty()) {
      String name = value.fieldNames().next();
      path.append('.').append(name);
      value = value.get(name);
    }
    return path.toString();
  }

  private static String shape(JsonNode value) {
    return "got keys " + new TreeSet<>(iterable(value.fieldNames()));
  }

  private static String firstKey(Node schema, String path) {
    if (schema.children.containsKey("url")) {
      return path + ".url"; // an upstream: the one key it can't do without
    }
    Set<String> keys = new TreeSet<>();
    collect(schema, path, keys);
    return keys.isEmpty() ? path : keys.iterator().next();
  }

  private static <T> List<T> iterable(Iterator<T> it) {
    List<T> list = new ArrayList<>();
    it.forEachRemaining(list::add);
    return list;
  }

  /**
   * Resolves an environment variable's segments ({@code TRANSSHIP_A__B__C} → {@code [A, B, C]}) to
   * key names, matching each segment against known and existing keys ignoring case, where {@code _}
   * stands for {@code -} or {@code .}. New names are only made inside named maps (a new upstream
   * alias). Throws a one-line {@link ConfigException} naming the nearest variable.
   */
  List<String> resolveVariable(String variable, String[] segments, JsonNode tree) {
    List<String> keys = new ArrayList<>();
    Node schema = root;
    JsonNode node = tree;
    for (int i = 0; i < segments.length; i++) {
      if (schema.leaf) {
        throw unknownVariable(variable);
      }
      String wanted = segments[i].toLowerCase(Locale.ROOT);
      String key = null;
      Set<String> candidates = new TreeSet<>(schema.children.keySet());
      node.fieldNames().forEachRemaining(candidates::add);
      for (String name : candidates) {
        if (envForm(name).equals(wanted)) {
          key = name;
          break;
        }
      }
      if (key == null) {
        if (schema.entry == null && !schema.freeForm) {
          throw unknownVariable(variable);
        }
        key = wanted.replace('_', '-');
      }
      keys.add(key);
      if (!schema.freeForm) {
        schema = schema.entry != null ? schema.entry : schema.children.get(key);
      }
      node = node.path(key);
    }
    if (!schema.leaf && !schema.freeForm) {
      throw new ConfigException(
          "environment variable "
              + variable
              + " names the section "
              + String.join(".", keys)
              + ", not a key; e.g. "
              + toVariable(firstKey(schema, String.join(".", keys))));
    }
    return keys;
  }

  private ConfigException unknownVariable(String variable) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    List<String> candidates = new ArrayList<>(NON_CONFIG_VARIABLES);
    String[] typed = variable.substring(ConfigLoader.ENV_PREFIX.length()).split("__");
    String alias =
        typed.length > 2 && NAMED_MAPS.containsKey(typed[0].toLowerCase(Locale.ROOT))
            ? typed[1]
            : "ALIAS";
    keys().forEach(k -> candidates.add(toVariable(k).replace("__ALIAS__", "__" + alias + "__")));
    for (String candidate : candidates) {
      int d = Levenshtein.distance(variable, candidate);
      if (d < bestDistance) {
        best = candidate;
        bestDistance = d;
      }
    }
    return new ConfigException(
        "unknown environment variable "
            + variable
            + " (not a transship setting); did you mean "
            + best
            + "?");
  }

  /** The variable that sets a key path ({@code <alias>} becomes {@code ALIAS}). */
  static String toVariable(String path) {
    String[] parts = path.split("\\.(?![^<]*>)");
    StringBuilder name = new StringBuilder(ConfigLoader.ENV_PREFIX);
    for (int i = 0; i < parts.length; i++) {
      if (i > 0) {
        name.append("__");
      }
      name.append(
          parts[i]
              .replace("<", "")
              .replace(">", "")
              .replace('-', '_')
              .replace('.', '_')
              .toUpperCase(Locale.ROOT));
    }
    return name.toString();
  }

  private static String envForm(String key) {
    return key.toLowerCase(Locale.ROOT).replace('-', '_').replace('.', '_');
  }

  /**
   * The known key nearest to {@code typed} by edit distance; a candidate ending in the same last
   * segment is favoured ({@code storage.cache.root} → {@code storage.filesystem.root}). Aliases in
   * {@code typed} are kept: {@code upstreams.lab.fromat} → {@code upstreams.lab.format}.
   */
  String nearest(String typed, String parent) {
    String[] typedParts = typed.split("\\.");
    String typedLast = typedParts[typedParts.length - 1];
    String best = null;
    int bestScore = Integer.MAX_VALUE;
    List<String> candidates = candidatesFor(typed);
    List<String> inParent =
        candidates.stream().filter(c -> !parent.isEmpty() && c.startsWith(parent + ".")).toList();
    for (String key : inParent.isEmpty() ? candidates : inParent) {
      String[] parts = key.split("\\.");
      int score = Levenshtein.distance(typed, key);
      if (parts[parts.length - 1].equals(typedLast)) {
        score -= typedLast.length();
      }
      if (score < bestScore) {
        bestScore = score;
        best = key;
      }
    }
    return best;
  }

  /** Known keys and sections, with the alias the user typed in place of {@code <alias>}. */
  private List<String> candidatesFor(String typed) {
    List<String> out = new ArrayList<>();
    String alias = null;
    for (String map : NAMED_MAPS.keySet()) {
      if (typed.startsWith(map + ".")) {
        String rest = typed.substring(map.length() + 1);
        // aliases may contain dots (docker.io): the alias is what precedes the last segment
        int dot = rest.lastIndexOf('.');
        alias = dot < 0 ? null : rest.substring(0, dot);
      }
    }
    Set<String> all = new TreeSet<>();
    sections(root, "", all);
    for (String key : all) {
      out.add(alias == null ? key : key.replace("<alias>", alias));
    }
    return out;
  }

  private static void sections(Node node, String path, Set<String> into) {
    if (!path.isEmpty()) {
      into.add(path);
    }
    if (node.leaf || node.freeForm) {
      return;
    }
    if (node.entry != null) {
      sections(node.entry, path + ".<alias>", into);
      return;
    }
    node.children.forEach((k, v) -> sections(v, path.isEmpty() ? k : path + "." + k, into));
  }
}
