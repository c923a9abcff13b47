package io.transship.server.service;

import io.transship.converter.ZstdOptions;
import io.transship.converter.ZstdTranscoder;
import io.transship.oci.ErrorCode;
import io.transship.oci.RegistryException;
import io.transship.server.config.Formats;
import io.transship.server.routing.Route;

/** Which {@link LayerFormat} (and settings) a format name means for a route. */
final class LayerFormats {
  private final LayerFormat zstd;

  LayerFormats(ZstdOptions zstdOptions) {
    this.zstd =
        new LayerFormat(
            Formats.ZSTD, zstdOptions.settingsKey(), new ZstdTranscoder(zstdOptions), false);
  }

  LayerFormat forRoute(Route route, String format) {
    if (Formats.ZSTD.equals(format)) {
      return zstd;
    }
    throw new RegistryException(ErrorCode.UNSUPPORTED, "no conversion for format " + format);
  }
}
