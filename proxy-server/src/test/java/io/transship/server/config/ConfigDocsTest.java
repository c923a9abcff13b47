package io.transship.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md and the embedded defaults.yaml can't drift: every key the schema knows is
 * in the docs' key table, and every key in that table is known.
 */
class ConfigDocsTest {
  private static final Path DOCS = Path.of("..", "docs", "configuration.md");
  private static final Pattern CODE = Pattern.compile("`([^`]+)`");

  /** Keys named in the first column of the docs' tables; {@code `.x`} is relative to the last. */
  static Set<String> documentedKeys() throws IOException {
    Set<String> keys = new LinkedHashSet<>();
    for (String line : Files.readAllLines(DOCS)) {
      if (!line.startsWith("| `")) {
        continue;
      }
      String first = line.substring(1, line.indexOf('|', 1));
      Matcher m = CODE.matcher(first);
      String previous = null;
      while (m.find()) {
        String key = m.group(1);
        if (key.startsWith(".") && previous != null) {
          key = previous.substring(0, previous.lastIndexOf('.')) + key;
        }
        if (!key.startsWith("TRANSSHIP_")) {
          keys.add(key);
        }
        previous = key;
      }
    }
    return keys;
  }

  /** A schema key as the docs name it: upstream-defaults.x is documented as upstreams.<alias>.x. */
  private static boolean documented(String key, Set<String> docs) {
    return docs.contains(key)
        || (key.startsWith("upstream-defaults.")
            && docs.contains("upstreams.<alias>." + key.substring("upstream-defaults.".length())));
  }

  @Test
  void everyKeyInTheDefaultsIsDocumented() throws IOException {
    Set<String> docs = documentedKeys();
    Set<String> missing = new TreeSet<>();
    for (String key : ConfigLoader.schema().keys()) {
      if (!documented(key, docs)) {
        missing.add(key);
      }
    }
    assertThat(missing).as("keys in defaults.yaml missing from docs/configuration.md").isEmpty();
  }

  @Test
  void everyDocumentedKeyExists() throws IOException {
    Set<String> known = ConfigLoader.schema().keys();
    Set<String> stale = new TreeSet<>();
    for (String key : documentedKeys()) {
      boolean ok =
          known.contains(key)
              || key.endsWith(".*")
              || (key.startsWith("upstreams.<alias>.")
                  && (known.contains(key)
                      || known.contains(
                          "upstream-defaults." + key.substring("upstreams.<alias>.".length()))));
      if (!ok) {
        stale.add(key);
      }
    }
    assertThat(stale).as("keys in docs/configuration.md that transship does not know").isEmpty();
  }
}
