package io.transship.server.service;

import io.transship.converter.CodecFingerprint;
import io.transship.converter.EstargzOptions;
import io.transship.converter.EstargzTranscoder;
import io.transship.converter.ZstdOptions;
import io.transship.converter.ZstdTranscoder;
import io.transship.oci.ErrorCode;
import io.transship.oci.RegistryException;
import io.transship.server.config.ConversionConfig;
import io.transship.server.config.Formats;
import io.transship.server.routing.Route;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which {@link LayerFormat} (and settings) a format name means for a route. eStargz settings depend
 * on the repository (its prioritized files), so eStargz formats are made per prefetch list and
 * shared by every repository with the same list. Settings keys end in {@code -f<fingerprint>} of
 * the codec's output ({@link CodecFingerprint}), so a codec library that writes other bytes gets
 * other keys.
 */
final class LayerFormats {
  private final LayerFormat zstd;
  private final EstargzOptions estargzBase;
  private final Path spoolDir;
  private final ConversionConfig config;
  private final List<Rule> prefetch = new ArrayList<>();
  private final Map<List<String>, LayerFormat> estargz = new ConcurrentHashMap<>();
  private volatile String estargzFingerprint;

  private record Rule(PathMatcher matcher, List<String> files) {}

  LayerFormats(ZstdOptions zstdOptions, ConversionConfig config, Path spoolDir) {
    ZstdTranscoder zstdTranscoder = new ZstdTranscoder(zstdOptions, config.limits());
    this.zstd =
        new LayerFormat(
            Formats.ZSTD,
            zstdOptions.settingsKey() + "-f" + CodecFingerprint.of(zstdTranscoder),
            zstdTranscoder,
            false);
    this.estargzBase =
        new EstargzOptions(
            config.estargzLevel(),
            config.estargzChunkSize(),
            List.of(),
            Math.max(1, config.zstdThreads()));
    this.spoolDir = spoolDir;
    this.config = config;
    for (ConversionConfig.PrefetchRule rule : config.prefetch()) {
      prefetch.add(
          new Rule(FileSystems.getDefault().getPathMatcher("glob:" + rule.match()), rule.files()));
    }
  }

  /**
   * The eStargz codec's fingerprint (prefetch lists change the layout, not the codec, so one
   * fingerprint serves every list).
   */
  private String fingerprint() {
    String known = estargzFingerprint;
    if (known == null) {
      known = CodecFingerprint.of(new EstargzTranscoder(estargzBase, spoolDir));
      estargzFingerprint = known;
    }
    return known;
  }

  LayerFormat forRoute(Route route, String format) {
    return switch (format) {
      case Formats.ZSTD -> zstd;
      case Formats.ESTARGZ -> estargzFor(prioritizedFiles(route));
      default ->
          throw new RegistryException(ErrorCode.UNSUPPORTED, "no conversion for format " + format);
    };
  }

  private List<String> prioritizedFiles(Route route) {
    Path name = Path.of(route.upstream().alias(), route.repository().value());
    for (Rule rule : prefetch) {
      if (rule.matcher().matches(name)) {
        return rule.files();
      }
    }
    return List.of();
  }

  private LayerFormat estargzFor(List<String> files) {
    return estargz.computeIfAbsent(
        files,
        list -> {
          EstargzTranscoder transcoder =
              new EstargzTranscoder(
                  estargzBase.withPrioritizedFiles(list), spoolDir, config.limits());
          return new LayerFormat(
              Formats.ESTARGZ, transcoder.settingsKey() + "-f" + fingerprint(), transcoder, true);
        });
  }
}
