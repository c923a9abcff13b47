package io.transship.server.config;

import java.time.Duration;

/**
 * Conversion settings.
 *
 * @param deadline how long a manifest request waits for a conversion before the original is served
 *     (the conversion then finishes in the background)
 * @param zstdLevel zstd compression level; part of the converted bytes' identity
 * @param zstdThreads zstd worker threads per layer; never changes the output
 * @param workers layer conversions running at once
 * @param includeUncompressed also convert uncompressed tar layers
 * @param convertForUnknownClients whether clients transship can't identify get converted images
 */
public record ConversionConfig(
    Duration deadline,
    int zstdLevel,
    int zstdThreads,
    int workers,
    boolean includeUncompressed,
    boolean convertForUnknownClients) {

  public static ConversionConfig defaults() {
    int cores = Runtime.getRuntime().availableProcessors();
    return new ConversionConfig(Duration.ofSeconds(20), 3, Math.min(4, cores), cores, false, true);
  }
}
