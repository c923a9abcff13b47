package io.transship.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Locale;

/** Which configuration keys hold secrets, and a copy of a tree with their values masked. */
public final class Secrets {
  public static final String MASK = "********";

  private Secrets() {}

  /** password, secret-access-key, token, *-token, *-secret: never printed. */
  public static boolean isSecretKey(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    return k.equals("password")
        || k.equals("token")
        || k.equals("secret")
        || k.endsWith("-token")
        || k.endsWith("-secret")
        || k.endsWith("secret-access-key")
        || k.endsWith("-password");
  }

  /** A deep copy of {@code tree} with every non-empty secret value replaced by {@link #MASK}. */
  public static ObjectNode masked(ObjectNode tree) {
    ObjectNode copy = tree.deepCopy();
    mask(copy);
    return copy;
  }

  private static java.util.List<String> iterable(Iterator<String> names) {
    java.util.List<String> list = new java.util.ArrayList<>();
    names.forEachRemaining(list::add);
    return list;
  }

  private static void mask(JsonNode node) {
    if (node instanceof ObjectNode object) {
      for (String key : iterable(object.fieldNames())) {
        JsonNode value = object.get(key);
        if (isSecretKey(key) && value.isValueNode() && !value.asText().isEmpty()) {
          object.put(key, MASK);
        } else {
          mask(value);
        }
      }
    } else if (node != null && node.isArray()) {
      node.forEach(Secrets::mask);
    }
  }
}
