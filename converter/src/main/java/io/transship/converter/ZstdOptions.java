package io.transship.converter;

/**
 * The zstd encoder settings of a {@link ZstdTranscoder}.
 *
 * <p>Only {@link #level()} shapes the output bytes: the transcoder always runs zstd's
 * multi-threaded mode (at least one worker), whose output zstd guarantees to be identical for every
 * worker count, so {@link #workers()} trades CPU for speed and nothing else.
 *
 * @param level the zstd compression level, 1 (fastest) to 22 (smallest)
 * @param workers zstd worker threads for one layer, at least 1 (zstd caps it at its own maximum)
 */
public record ZstdOptions(int level, int workers) {

  /** The fastest level zstd accepts without going into its negative "fast" levels. */
  public static final int MIN_LEVEL = 1;

  /** zstd's highest ("ultra") level. */
  public static final int MAX_LEVEL = 22;

  /** The level of {@link #defaults()}: zstd's own default, a good speed/ratio balance. */
  public static final int DEFAULT_LEVEL = 3;

  private static final int DEFAULT_MAX_WORKERS = 4;

  public ZstdOptions {
    if (level < MIN_LEVEL || level > MAX_LEVEL) {
      throw new IllegalArgumentException(
          "zstd level must be " + MIN_LEVEL + ".." + MAX_LEVEL + ", got " + level);
    }
    if (workers < 1) {
      throw new IllegalArgumentException("zstd workers must be at least 1, got " + workers);
    }
  }

  /** Level 3 with one worker per available processor, at most 4. */
  public static ZstdOptions defaults() {
    int processors = Runtime.getRuntime().availableProcessors();
    return new ZstdOptions(DEFAULT_LEVEL, Math.max(1, Math.min(DEFAULT_MAX_WORKERS, processors)));
  }

  /**
   * A stable name for everything that decides the output bytes, e.g. {@code zstd-l3}: two
   * conversions with the same key (and the same zstd library) write the same bytes. The worker
   * count is deliberately absent because it never changes the output.
   */
  public String settingsKey() {
    return "zstd-l" + level;
  }
}
