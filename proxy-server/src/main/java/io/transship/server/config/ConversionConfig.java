package io.transship.server.config;

import io.transship.converter.InflationLimits;
import java.time.Duration;
import java.util.List;

/**
 * Conversion settings.
 *
 * @param deadline how long a manifest request waits for a conversion before the original is served
 *     (the conversion then finishes in the background)
 * @param zstdLevel zstd compression level; part of the converted bytes' identity
 * @param zstdThreads zstd worker threads per layer (also eStargz compression threads); never
 *     changes the output
 * @param workers layer conversions running at once
 * @param includeUncompressed also convert uncompressed tar layers
 * @param convertForUnknownClients whether clients transship can't identify get converted images
 * @param estargzLevel gzip level of eStargz chunks
 * @param estargzChunkSize bytes per eStargz chunk
 * @param prefetch prioritized files for eStargz, by repository; the first matching rule wins
 * @param limits what one layer may inflate to (absolute, ratio, tar entries) before its conversion
 *     is abandoned and the layer keeps its original form
 */
public record ConversionConfig(
    Duration deadline,
    int zstdLevel,
    int zstdThreads,
    int workers,
    boolean includeUncompressed,
    boolean convertForUnknownClients,
    int estargzLevel,
    int estargzChunkSize,
    List<PrefetchRule> prefetch,
    InflationLimits limits) {

  public ConversionConfig {
    prefetch = List.copyOf(prefetch);
  }

  /** With the default inflation limits. */
  public ConversionConfig(
      Duration deadline,
      int zstdLevel,
      int zstdThreads,
      int workers,
      boolean includeUncompressed,
      boolean convertForUnknownClients,
      int estargzLevel,
      int estargzChunkSize,
      List<PrefetchRule> prefetch) {
    this(
        deadline,
        zstdLevel,
        zstdThreads,
        workers,
        includeUncompressed,
        convertForUnknownClients,
        estargzLevel,
        estargzChunkSize,
        prefetch,
        InflationLimits.defaults());
  }

  /** Without eStargz settings (defaults: level 6, 4 MiB chunks, no prioritized files). */
  public ConversionConfig(
      Duration deadline,
      int zstdLevel,
      int zstdThreads,
      int workers,
      boolean includeUncompressed,
      boolean convertForUnknownClients) {
    this(
        deadline,
        zstdLevel,
        zstdThreads,
        workers,
        includeUncompressed,
        convertForUnknownClients,
        6,
        4 << 20,
        List.of());
  }

  public static ConversionConfig defaults() {
    int cores = Runtime.getRuntime().availableProcessors();
    int perLayer = Math.min(4, cores);
    return new ConversionConfig(
        Duration.ofSeconds(20), 3, perLayer, Math.max(1, cores / perLayer), false, true);
  }

  /**
   * Files to place first in eStargz layers of matching repositories.
   *
   * @param match a glob over {@code <upstream alias>/<repository>} ({@code *} within a path
   *     segment, {@code **} across segments), e.g. {@code docker.io/library/python*}
   * @param files tar paths, e.g. {@code usr/local/bin/python3.12}
   */
  public record PrefetchRule(String match, List<String> files) {
    public PrefetchRule {
      files = List.copyOf(files);
    }
  }
}
