package io.transship.server.service;

import io.transship.oci.ManifestDocument;
import io.transship.oci.MediaTypes;
import io.transship.server.config.Formats;
import io.transship.server.routing.RegistryRequest.ClientInfo;
import io.transship.server.routing.Route;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Chooses what a client gets for a tag: the format asked for (path selector, else the upstream's
 * default), unless the client can't take it ({@link ClientPolicy}); then the converted manifest if
 * it is ready within the deadline, else the original.
 */
final class FormatNegotiation implements ManifestService.Conversion {
  private final ConversionService conversions;
  private final ClientPolicy policy;
  private final Duration deadline;
  private final BooleanSupplier storageAvailable;
  private final ProxyMetrics metrics;

  FormatNegotiation(
      ConversionService conversions,
      ClientPolicy policy,
      Duration deadline,
      BooleanSupplier storageAvailable,
      ProxyMetrics metrics) {
    this.conversions = conversions;
    this.policy = policy;
    this.deadline = deadline;
    this.storageAvailable = storageAvailable;
    this.metrics = metrics;
  }

  @Override
  public ManifestDocument forClient(Route route, ClientInfo client, ManifestDocument source) {
    String format = route.format();
    if (Formats.NONE.equals(format)) {
      return source;
    }
    String target =
        MediaTypes.isIndex(source.mediaType()) ? MediaTypes.OCI_INDEX : MediaTypes.OCI_MANIFEST;
    if (!policy.acceptsConverted(client, format, target)) {
      metrics.conversionServed(format, "client-cannot-use");
      return source;
    }
    if (!storageAvailable.getAsBoolean()) {
      metrics.conversionServed(format, "storage-unavailable");
      return source; // pass-through until storage is back: nowhere to keep converted layers
    }
    ManifestDocument served = conversions.convertedOrSource(route, source, format, deadline);
    metrics.conversionServed(format, served == source ? "original" : "converted");
    return served;
  }
}
