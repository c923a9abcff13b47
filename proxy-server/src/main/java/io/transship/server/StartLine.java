package io.transship.server;

import io.transship.converter.EstargzOptions;
import io.transship.converter.GzipInput;
import io.transship.server.cli.Versions;
import io.transship.server.config.TransshipConfig;
import io.transship.server.config.UpstreamConfig;
import java.nio.file.Path;
import java.util.StringJoiner;

/**
 * The one line logged when transship is ready: version, listeners (with the ports actually bound),
 * storage, upstreams in configuration order with their format, and the codecs in use — what an
 * operator needs to know which build runs with which settings.
 */
final class StartLine {
  private StartLine() {}

  static String of(TransshipConfig config, Path root, int port, int adminPort) {
    StringJoiner upstreams = new StringJoiner(", ");
    for (UpstreamConfig u : config.upstreams().values()) {
      upstreams.add(u.alias() + "=" + u.url() + " (" + u.format() + ")");
    }
    long max = config.storage().maxBytes();
    String storage =
        root
            + " (max "
            + (max <= 0 ? "unbounded" : gib(max))
            + ")"
            + (config.storage().s3() == null ? "" : " caching " + config.storage().s3());
    return "transship "
        + Versions.version()
        + " ready: listen "
        + (config.listen() == null ? "(plain HTTP off)" : config.listen().host() + ":" + port)
        + ", admin "
        + config.adminListen().host()
        + ":"
        + adminPort
        + ", storage "
        + storage
        + ", upstreams ["
        + upstreams
        + "], default "
        + (config.defaultUpstream().isEmpty() ? "(none)" : config.defaultUpstream())
        + ", codecs: inflate "
        + GzipInput.implementation()
        + ", zstd level "
        + config.conversion().zstdLevel()
        + ", estargz deflate "
        + EstargzOptions.defaults().settingsKey().split("-")[1];
  }

  private static String gib(long bytes) {
    return String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
  }
}
