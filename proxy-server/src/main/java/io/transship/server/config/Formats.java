package io.transship.server.config;

import java.util.Locale;
import java.util.Set;

/** The layer formats a client can be served. */
public final class Formats {
  /** Layers as the upstream has them. */
  public static final String NONE = "none";

  /** gzip layers recompressed with zstd ({@code tar+zstd}). */
  public static final String ZSTD = "zstd";

  /** gzip layers rewritten as eStargz (still {@code tar+gzip}), for lazy pulling. */
  public static final String ESTARGZ = "estargz";

  /** Every format name, also usable as a leading path segment: {@code /v2/zstd/...}. */
  public static final Set<String> ALL = Set.of(NONE, ZSTD, ESTARGZ);

  private Formats() {}

  /** Validates a format name; {@code original} is an alias of {@code none}. */
  public static String parse(String text, String where) {
    String value = text.trim().toLowerCase(Locale.ROOT);
    if (value.equals("original")) {
      return NONE;
    }
    if (!ALL.contains(value)) {
      throw new ConfigException(where + " must be one of " + ALL + ", got '" + text + "'");
    }
    return value;
  }
}
