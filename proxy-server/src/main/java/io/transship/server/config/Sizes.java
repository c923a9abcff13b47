package io.transship.server.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses human sizes ({@code 50GiB}, {@code 512MB}, {@code 1024}) and durations ({@code 30s}). */
public final class Sizes {
  private static final Pattern SIZE =
      Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt]?i?b?)?", Pattern.CASE_INSENSITIVE);
  private static final Pattern DURATION =
      Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h|d)?", Pattern.CASE_INSENSITIVE);

  private Sizes() {}

  /** Bytes in {@code text}: decimal (kB, MB, GB, TB) and binary (KiB, MiB, GiB, TiB) units. */
  public static long parseBytes(String text) {
    Matcher m = SIZE.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("not a size: '" + text + "' (try 50GiB or 512MB)");
    }
    double number = Double.parseDouble(m.group(1));
    String unit = m.group(2) == null ? "" : m.group(2).toLowerCase(Locale.ROOT);
    boolean binary = unit.contains("i");
    long base = binary ? 1024 : 1000;
    int power =
        switch (unit.isEmpty() ? ' ' : unit.charAt(0)) {
          case 'k' -> 1;
          case 'm' -> 2;
          case 'g' -> 3;
          case 't' -> 4;
          default -> 0;
        };
    return (long) (number * Math.pow(base, power));
  }

  /** A duration such as {@code 250ms}, {@code 30s}, {@code 5m}, {@code 1h}; bare numbers are s. */
  public static Duration parseDuration(String text) {
    Matcher m = DURATION.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("not a duration: '" + text + "' (try 30s or 5m)");
    }
    double number = Double.parseDouble(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2).toLowerCase(Locale.ROOT);
    double millis =
        switch (unit) {
          case "ms" -> number;
          case "m" -> number * 60_000;
          case "h" -> number * 3_600_000;
          case "d" -> number * 86_400_000;
          default -> number * 1000;
        };
    return Duration.ofMillis((long) millis);
  }
}
