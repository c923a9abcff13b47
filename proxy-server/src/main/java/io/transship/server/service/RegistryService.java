package io.transship.server.service;

import io.micrometer.core.instrument.MeterRegistry;
import io.transship.converter.ZstdOptions;
import io.transship.oci.ManifestDocument;
import io.transship.oci.Reference;
import io.transship.oci.RegistryException;
import io.transship.server.config.ConversionConfig;
import io.transship.server.reply.Body;
import io.transship.server.reply.Reply;
import io.transship.server.routing.RegistryRequest;
import io.transship.server.routing.Route;
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
  private final ConversionService conversions;
  private final ProxyMetrics metrics;
  private final RepositoryLinks links;

  public RegistryService(
      Function<String, RegistryClient> clients,
      StorageSetup storage,
      Clock clock,
      Duration tagTtl,
      ConversionConfig conversionConfig,
      ProxyMetrics metrics)
      throws IOException {
    this(
        clients,
        storage,
        clock,
        tagTtl,
        conversionConfig,
        metrics,
        io.transship.server.config.TransshipConfig.DEFAULT_MAX_BLOB_BYTES);
  }

  /**
   * @param maxBlobBytes the largest blob downloaded from an upstream ({@code cache.max-blob-bytes})
   */
  public RegistryService(
      Function<String, RegistryClient> clients,
      StorageSetup storage,
      Clock clock,
      Duration tagTtl,
      ConversionConfig conversionConfig,
      ProxyMetrics metrics,
      long maxBlobBytes)
      throws IOException {
    this(clients, storage, clock, tagTtl, conversionConfig, metrics, maxBlobBytes, false);
  }

  /**
   * @param accessControl whether client access rules are configured: then cached content is served
   *     through a repository only once that repository is known to hold it ({@code
   *     RepositoryLinks})
   */
  public RegistryService(
      Function<String, RegistryClient> clients,
      StorageSetup storage,
      Clock clock,
      Duration tagTtl,
      ConversionConfig conversionConfig,
      ProxyMetrics metrics,
      long maxBlobBytes,
      boolean accessControl)
      throws IOException {
    ObjectStore store = storage.store();
    Path spoolDir = storage.spoolDir();
    BlobStore blobStore = new BlobStore(store);
    ManifestRepository repository = new ManifestRepository(store);
    if (storage.localDisk() != null) {
      storage.localDisk().addEvictionListener(repository::evicted);
    }
    ConversionIndex conversionIndex = new ConversionIndex(store);
    RepositoryLinks links =
        accessControl ? new RepositoryLinks(clients, store, conversionIndex) : RepositoryLinks.OFF;
    this.links = links;
    this.metrics = metrics;
    this.downloads = new BlobDownloads(clients, blobStore, spoolDir, metrics, maxBlobBytes);
    this.blobs =
        new BlobService(clients, blobStore, downloads, metrics, storage.presignExpiry(), links);
    ManifestService sources =
        new ManifestService(
            clients, repository, clock, tagTtl, metrics, ManifestService.Conversion.NONE);
    this.conversions =
        new ConversionService(
            blobs,
            repository,
            conversionIndex,
            sources::byDigest,
            new LayerFormats(
                new ZstdOptions(conversionConfig.zstdLevel(), conversionConfig.zstdThreads()),
                conversionConfig,
                spoolDir),
            conversionConfig.workers(),
            conversionConfig.includeUncompressed(),
            spoolDir,
            storage.shared() ? new ConversionLeases(store) : ConversionLeases.NONE,
            metrics);
    this.manifests =
        new ManifestService(
            clients,
            repository,
            clock,
            tagTtl,
            metrics,
            new FormatNegotiation(
                conversions,
                new ClientPolicy(conversionConfig.convertForUnknownClients()),
                conversionConfig.deadline(),
                storage::available,
                metrics),
            links);
    this.passThrough = new PassThroughService(clients);
  }

  /** Resolves a manifest reference to the upstream's document (no conversion). */
  public ManifestDocument resolveSource(Route route, Reference reference) {
    return switch (reference) {
      case Reference.ByDigest byDigest -> manifests.byDigest(route, byDigest.digest());
      case Reference.Tag tag -> manifests.byTag(route, tag.name());
    };
  }

  public ConversionService conversions() {
    return conversions;
  }

  public Reply handle(RegistryRequest request) {
    return switch (request) {
      case RegistryRequest.Base base ->
          new Reply(
              200,
              Map.of("Content-Type", "application/json"),
              new Body.Bytes("{}".getBytes(StandardCharsets.UTF_8)));
      case RegistryRequest.Manifest manifest -> {
        if (manifest.reference() instanceof Reference.ByDigest byDigest) {
          // no work is spent for a repository the converted manifest does not belong to
          links.requireIfConverted(
              manifest.route(), byDigest.digest(), RepositoryLinks.Kind.MANIFEST);
          conversions.regenerateManifestIfConverted(manifest.route(), byDigest.digest());
        }
        yield manifests.serve(manifest);
      }
      case RegistryRequest.Blob blob -> {
        try {
          yield blobs.serve(blob);
        } catch (RegistryException e) {
          // only a converted blob the store lost gets here with a recorded origin: regenerate it
          // (rare) rather than stat every blob request twice on the hot path
          links.requireIfConverted(blob.route(), blob.digest(), RepositoryLinks.Kind.BLOB);
          if (!conversions.regenerateBlobIfConverted(blob.route(), blob.digest())) {
            throw e;
          }
          yield blobs.serve(blob);
        }
      }
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

  /**
   * Graceful shutdown: waits up to {@code timeout} for running layer conversions; returns how many
   * were still running.
   */
  public int awaitConversions(java.time.Duration timeout) throws InterruptedException {
    return conversions.awaitIdle(timeout);
  }

  @Override
  public void close() {
    conversions.close();
    downloads.close();
  }
}
