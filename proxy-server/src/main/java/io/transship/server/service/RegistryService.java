package io.transship.server.service;

import io.micrometer.core.instrument.MeterRegistry;
import io.transship.server.reply.Body;
import io.transship.server.reply.Reply;
import io.transship.server.routing.RegistryRequest;
import io.transship.server.upstream.RegistryClient;
import io.transship.storage.BlobStore;
import io.transship.storage.ObjectStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.function.Function;

/**
 * The entry point of the service layer: answers one routed request. Blocking: call it off the event
 * loop. Throws {@link io.transship.oci.RegistryException} for every failure a client should see as
 * an OCI error.
 */
public final class RegistryService implements AutoCloseable {
  private final ManifestService manifests;
  private final BlobService blobs;
  private final PassThroughService passThrough;
  private final BlobDownloads downloads;
  private final ProxyMetrics metrics;

  public RegistryService(
      Function<String, RegistryClient> clients,
      ObjectStore store,
      Path spoolDir,
      Clock clock,
      Duration tagTtl,
      ProxyMetrics metrics)
      throws IOException {
    BlobStore blobStore = new BlobStore(store);
    this.metrics = metrics;
    this.downloads = new BlobDownloads(clients, blobStore, spoolDir, metrics);
    this.manifests =
        new ManifestService(clients, new ManifestRepository(store), clock, tagTtl, metrics);
    this.blobs = new BlobService(clients, blobStore, downloads, metrics);
    this.passThrough = new PassThroughService(clients);
  }

  public Reply handle(RegistryRequest request) {
    return switch (request) {
      case RegistryRequest.Base base ->
          new Reply(
              200,
              Map.of("Content-Type", "application/json"),
              new Body.Bytes("{}".getBytes(StandardCharsets.UTF_8)));
      case RegistryRequest.Manifest manifest -> manifests.serve(manifest);
      case RegistryRequest.Blob blob -> blobs.serve(blob);
      case RegistryRequest.TagsList tags -> passThrough.tags(tags);
      case RegistryRequest.Referrers referrers -> passThrough.referrers(referrers);
    };
  }

  public ProxyMetrics metrics() {
    return metrics;
  }

  public MeterRegistry meterRegistry() {
    return metrics.registry();
  }

  public BlobDownloads downloads() {
    return downloads;
  }

  @Override
  public void close() {
    downloads.close();
  }
}
