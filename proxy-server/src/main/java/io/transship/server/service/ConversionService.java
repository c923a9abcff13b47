package io.transship.server.service;

import io.transship.converter.ConfigRewriter;
import io.transship.converter.ImageConfig;
import io.transship.converter.ImageConverter;
import io.transship.converter.LayerOutcome;
import io.transship.converter.LayerReplacement;
import io.transship.converter.LayerRules;
import io.transship.converter.TranscodeResult;
import io.transship.oci.Digest;
import io.transship.oci.ErrorCode;
import io.transship.oci.ManifestDocument;
import io.transship.oci.MediaTypes;
import io.transship.oci.RegistryException;
import io.transship.server.routing.Route;
import io.transship.storage.BlobStore;
import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Converts images on first pull, with {@link ImageConverter} deciding what an image becomes and
 * this class doing the work: fetching configs and layers, transcoding on a fixed CPU pool, storing
 * and recording.
 *
 * <p>Every layer takes one path, on one node or many: durable index lookup &rarr; lease (shared
 * storage only) &rarr; re-check &rarr; convert &rarr; record. So a layer is converted once per
 * settings across repositories, tags, images and replicas. Single flight ({@link SingleFlight}) per
 * source manifest and per layer joins concurrent requests in this process.
 *
 * <p>Only final outcomes are recorded: a converted layer, or one kept for a permanent reason
 * (unsupported tar, diff_id mismatch). A transient failure (upstream down, storage error) leaves
 * the image served as converted as it could be, and not recorded, so a later pull completes it.
 * Every produced blob and manifest gets an origin record, so eviction costs only time.
 */
public final class ConversionService implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ConversionService.class);

  private final BlobService blobs;
  private final BlobStore store;
  private final ManifestRepository repository;
  private final ConversionIndex index;
  private final BiFunction<Route, Digest, ManifestDocument> fetchManifest;
  private final LayerFormats formats;
  private final boolean includeUncompressed;
  private final Path spoolDir;
  private final ConversionLeases leases;
  private final ProxyMetrics metrics;
  private final ExecutorService cpu;
  private final ExecutorService orchestration = Executors.newVirtualThreadPerTaskExecutor();
  private final SingleFlight<String, CompletableFuture<LayerOutcome>> layers = new SingleFlight<>();
  private final SingleFlight<String, CompletableFuture<Conversion>> manifests =
      new SingleFlight<>();

  /** A converted manifest, and whether it is final (no layer failed transiently). */
  record Conversion(ManifestDocument manifest, boolean complete) {}

  ConversionService(
      BlobService blobs,
      ManifestRepository repository,
      ConversionIndex index,
      BiFunction<Route, Digest, ManifestDocument> fetchManifest,
      LayerFormats formats,
      int workers,
      boolean includeUncompressed,
      Path spoolDir,
      ConversionLeases leases,
      ProxyMetrics metrics) {
    this.blobs = blobs;
    this.store = blobs.store();
    this.repository = repository;
    this.index = index;
    this.fetchManifest = fetchManifest;
    this.formats = formats;
    this.includeUncompressed = includeUncompressed;
    this.spoolDir = spoolDir;
    this.leases = leases;
    this.metrics = metrics;
    this.cpu =
        Executors.newFixedThreadPool(
            workers, Thread.ofPlatform().daemon().name("transship-convert-", 0).factory());
  }

  /**
   * The converted form of {@code source} if it is ready within {@code wait}; otherwise the source
   * itself, while the conversion goes on in the background for the next request.
   */
  ManifestDocument convertedOrSource(
      Route route, ManifestDocument source, String format, Duration wait) {
    Optional<ManifestDocument> done = recorded(route, source, format);
    if (done.isPresent()) {
      return done.get();
    }
    CompletableFuture<ManifestDocument> conversion =
        convert(route, source, format, ConversionListener.NONE);
    try {
      return conversion.get(Math.max(0, wait.toMillis()), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      metrics.conversionServed(format, "deadline");
      LOG.info(
          "conversion of {} to {} not done within {} ms; serving the original",
          source.digest(),
          format,
          wait.toMillis());
      return source;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return source;
    } catch (ExecutionException e) {
      LOG.warn("conversion of {} failed: {}", source.digest(), rootMessage(e));
      return source;
    }
  }

  /** The finished conversion of {@code source}, if one is recorded and its manifest is stored. */
  Optional<ManifestDocument> recorded(Route route, ManifestDocument source, String format) {
    String settings = formats.forRoute(route, format).settingsKey();
    Optional<Digest> converted = index.manifest(settings, source.digest());
    if (converted.isEmpty()) {
      return Optional.empty();
    }
    if (converted.get().equals(source.digest())) {
      return Optional.of(source);
    }
    return repository.get(converted.get());
  }

  /** Converts {@code source} (single flight per source digest and settings). */
  public CompletableFuture<ManifestDocument> convert(
      Route route, ManifestDocument source, String format, ConversionListener listener) {
    return conversion(route, source, format, listener).thenApply(Conversion::manifest);
  }

  private CompletableFuture<Conversion> conversion(
      Route route, ManifestDocument source, String format, ConversionListener listener) {
    String key = formats.forRoute(route, format).settingsKey() + "/" + source.digest();
    return SingleFlight.async(
        manifests, key, orchestration, () -> convertNow(route, source, format, listener));
  }

  private Conversion convertNow(
      Route route, ManifestDocument source, String format, ConversionListener listener) {
    LayerFormat layerFormat = formats.forRoute(route, format);
    Optional<ManifestDocument> done = recorded(route, source, format);
    if (done.isPresent()) {
      listener.manifestFinished(source.digest(), done.get().digest());
      return new Conversion(done.get(), true);
    }
    listener.manifestStarted(source.digest(), source.mediaType());
    Conversion result;
    if (MediaTypes.isIndex(source.mediaType())) {
      result = convertIndex(route, source, format, listener);
    } else {
      result = convertImage(route, source, layerFormat, listener);
    }
    ManifestDocument converted = result.manifest();
    if (converted != source) {
      repository.put(converted);
      index.putOrigin(
          converted.digest(),
          new ConversionIndex.Origin(
              ConversionIndex.Origin.MANIFEST,
              format,
              layerFormat.settingsKey(),
              source.digest(),
              source.mediaType(),
              null));
    }
    if (result.complete()) {
      index.putManifest(layerFormat.settingsKey(), source.digest(), converted.digest());
    } else {
      LOG.info(
          "{} converted partly to {}; served so, and completed on a later pull",
          source.digest(),
          converted.digest());
    }
    listener.manifestFinished(source.digest(), converted.digest());
    return result;
  }

  private Conversion convertIndex(
      Route route, ManifestDocument source, String format, ConversionListener listener) {
    Map<Digest, CompletableFuture<Conversion>> children = new LinkedHashMap<>();
    for (Digest child : ImageConverter.convertibleChildren(source)) {
      ManifestDocument childDoc = fetchManifest.apply(route, child);
      children.put(child, conversion(route, childDoc, format, listener));
    }
    Map<Digest, ManifestDocument> converted = new LinkedHashMap<>();
    boolean complete = true;
    for (Map.Entry<Digest, CompletableFuture<Conversion>> child : children.entrySet()) {
      Conversion result = SingleFlight.await(child.getValue());
      converted.put(child.getKey(), result.manifest());
      complete &= result.complete();
    }
    return new Conversion(ImageConverter.assembleIndex(source, converted, format), complete);
  }

  private Conversion convertImage(
      Route route, ManifestDocument source, LayerFormat format, ConversionListener listener) {
    Optional<ImageConverter.Plan> plan = ImageConverter.plan(source, includeUncompressed);
    if (plan.isEmpty()) {
      return new Conversion(source, true); // not an image, or nothing to convert
    }
    byte[] configBytes =
        configBytes(
            route, plan.get().config(), source.json().path("config").path("size").asLong(-1));
    Optional<List<Digest>> diffIds = ImageConverter.diffIds(plan.get(), configBytes);
    if (diffIds.isEmpty()) {
      LOG.warn(
          "{}: its config's diff_ids do not match its layers; not converting", source.digest());
      return new Conversion(source, true);
    }
    Map<Digest, CompletableFuture<LayerOutcome>> futures = new LinkedHashMap<>();
    for (ImageConverter.LayerJob job : plan.get().layers()) {
      Digest diffId = diffIds.get().get(job.index());
      futures.put(job.digest(), convertLayer(route, format, job, diffId, listener));
    }
    Map<Digest, LayerOutcome> outcomes = new LinkedHashMap<>();
    futures.forEach((digest, future) -> outcomes.put(digest, outcomeOf(future)));
    ImageConverter.Result result =
        ImageConverter.assemble(
            plan.get(), configBytes, outcomes, format.name(), format.changesDiffIds());
    result.problems().forEach(problem -> LOG.warn("{}: {}", source.digest(), problem));
    if (result.config() != null) {
      List<Digest> newDiffIds;
      try {
        storeBlob(result.configDigest(), result.config());
        newDiffIds = ImageConfig.diffIds(result.config());
      } catch (IOException e) {
        LOG.warn("{}: cannot store its rewritten config: {}", source.digest(), e.getMessage());
        return new Conversion(source, false);
      }
      index.putOrigin(
          result.configDigest(),
          new ConversionIndex.Origin(
              ConversionIndex.Origin.CONFIG,
              format.name(),
              format.settingsKey(),
              plan.get().config(),
              source.json().path("config").path("mediaType").asText(),
              newDiffIds));
    }
    return new Conversion(result.manifest(), result.complete());
  }

  private static LayerOutcome outcomeOf(CompletableFuture<LayerOutcome> future) {
    try {
      return SingleFlight.await(future);
    } catch (RuntimeException e) {
      return new LayerOutcome.Failed(rootMessage(e));
    }
  }

  private void storeBlob(Digest digest, byte[] content) throws IOException {
    try (var writer = store.newWriter(digest)) {
      writer.write(content, 0, content.length);
      writer.commit();
    }
  }

  private byte[] configBytes(Route route, Digest config, long size) {
    blobs.ensureLocal(route, config, size);
    try (InputStream in = store.open(config, null)) {
      return in.readNBytes(ManifestDocument.MAX_BYTES);
    } catch (IOException e) {
      throw new RegistryException(ErrorCode.UNAVAILABLE, "cannot read image config " + config);
    }
  }

  /**
   * Converts one layer: single flight per source digest and settings, then the one layer path
   * (index &rarr; lease &rarr; re-check &rarr; convert &rarr; record).
   */
  CompletableFuture<LayerOutcome> convertLayer(
      Route route,
      LayerFormat format,
      ImageConverter.LayerJob job,
      Digest diffId,
      ConversionListener listener) {
    Digest digest = job.digest();
    listener.layerStarted(digest, job.size());
    CompletableFuture<LayerOutcome> future =
        SingleFlight.async(
            layers,
            format.settingsKey() + "/" + digest,
            orchestration,
            () ->
                leases.run(
                    format.settingsKey(),
                    digest,
                    () -> storedOutcome(format, digest),
                    () -> convertAndRecord(route, format, job, diffId)));
    return future.whenComplete((outcome, error) -> {
      if (outcome instanceof LayerOutcome.Converted converted) {
        listener.layerFinished(digest, converted.descriptor());
      } else {
        listener.layerFailed(digest, error != null ? rootMessage(error) : reasonOf(outcome));
      }
    });
  }

  private static String reasonOf(LayerOutcome outcome) {
    return switch (outcome) {
      case LayerOutcome.Kept kept -> kept.reason();
      case LayerOutcome.Failed failed -> failed.reason();
      case LayerOutcome.Converted converted -> "";
    };
  }

  /** A recorded final outcome: kept, or converted with its blob in the store. */
  private Optional<LayerOutcome> storedOutcome(LayerFormat format, Digest source) {
    Optional<LayerOutcome> recorded = index.layer(format.settingsKey(), source);
    if (recorded.isPresent() && recorded.get() instanceof LayerOutcome.Converted converted) {
      try {
        if (store.stat(converted.descriptor().digest()).isEmpty()) {
          return Optional.empty(); // evicted: converting again gives the same bytes
        }
      } catch (IOException e) {
        LOG.warn("cannot stat converted layer of {}: {}", source, e.getMessage());
        return Optional.empty();
      }
    }
    return recorded;
  }

  /**
   * Converts while downloading: the transcoder reads the source as it arrives (the download's
   * spool, shared with clients pulling it meanwhile, or the store when already there). The
   * download's last byte is released only once its digest checked out, so nothing converted from
   * wrong bytes can finish. Downloads of every layer of an image start at once (on virtual
   * threads); transcoding waits for a CPU worker.
   */
  private LayerOutcome convertAndRecord(
      Route route, LayerFormat format, ImageConverter.LayerJob job, Digest diffId) {
    Digest source = job.digest();
    BlobService.Source in;
    try {
      // virtual thread: may wait for headers; the download stops at the descriptor's size
      in = blobs.openWhileDownloading(route, source, job.size() > 0 ? job.size() : -1);
    } catch (IOException | RegistryException e) {
      metrics.conversionFailed(format.name(), "source-unavailable");
      return new LayerOutcome.Failed("source layer unavailable: " + e.getMessage());
    }
    LayerOutcome outcome;
    try (SourceWatch watched = new SourceWatch(in.in(), in.download())) {
      outcome =
          CompletableFuture.supplyAsync(
                  () -> transcode(format, source, watched, job.mediaType(), diffId), cpu)
              .join();
    } catch (IOException | RuntimeException e) {
      outcome = new LayerOutcome.Failed(rootMessage(e));
    }
    index.putLayer(format.settingsKey(), source, outcome);
    if (outcome instanceof LayerOutcome.Kept kept) {
      LOG.warn("layer {} keeps its original form for good: {}", source, kept.reason());
    } else if (outcome instanceof LayerOutcome.Failed failed) {
      LOG.warn("layer {} not converted this time: {}", source, failed.reason());
    }
    return outcome;
  }

  /**
   * Counts what the transcoder read and remembers whether reading itself failed (a broken download,
   * a disk error): such a failure is transient whatever the transcoder makes of it.
   */
  private static final class SourceWatch extends java.io.FilterInputStream {
    private final BlobDownload download;
    long bytes;
    boolean failed;

    SourceWatch(InputStream in, BlobDownload download) {
      super(in);
      this.download = download;
    }

    /**
     * Whether the bytes read were the blob's: a download's bytes are verified only once it is done
     * (a transcoder may stop early on bytes that turn out not to be the blob at all).
     */
    boolean verified() {
      if (failed) {
        return false;
      }
      if (download == null) {
        return true; // read from the store: verified when stored
      }
      return download.awaitVerified();
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      try {
        int n = super.read(buffer, offset, length);
        if (n > 0) {
          bytes += n;
        }
        return n;
      } catch (IOException | RuntimeException e) {
        failed = true;
        throw e;
      }
    }

    @Override
    public long skip(long n) throws IOException {
      long skipped = super.skip(n);
      bytes += skipped;
      return skipped;
    }
  }

  private LayerOutcome transcode(
      LayerFormat format, Digest source, SourceWatch in, String mediaType, Digest diffId) {
    long started = System.nanoTime();
    metrics.conversionStarted(format.name());
    Path spool =
        spoolDir.resolve("convert-" + source.encoded() + "-" + UUID.randomUUID() + ".part");
    try {
      TranscodeResult result;
      try (FileOutputStream file = new FileOutputStream(spool.toFile());
          OutputStream out = new BufferedOutputStream(file, 256 * 1024)) {
        try {
          result =
              format.transcoder().transcode(in, LayerRules.compressionOf(mediaType), diffId, out);
        } catch (IOException | RuntimeException e) {
          metrics.conversionFailed(format.name(), e.getClass().getSimpleName());
          // only a verified source can make a failure permanent
          return in.verified()
              ? LayerOutcome.ofTranscodeFailure(e)
              : new LayerOutcome.Failed(rootMessage(e));
        }
        out.flush();
        file.getFD().sync();
      }
      long sourceSize = in.bytes;
      if (!in.verified()) {
        // a transcoder that stopped before the source's end never saw its verification
        metrics.conversionFailed(format.name(), "source-unverified");
        return new LayerOutcome.Failed("source layer did not verify");
      }
      store.putVerifiedFile(result.digest(), spool);
      LayerOutcome.Converted converted =
          new LayerOutcome.Converted(LayerReplacement.of(result), result.diffId());
      index.putOrigin(
          result.digest(),
          new ConversionIndex.Origin(
              ConversionIndex.Origin.LAYER,
              format.name(),
              format.settingsKey(),
              source,
              mediaType,
              null));
      Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
      metrics.conversionFinished(format.name(), elapsed, sourceSize, result.size());
      LOG.info(
          "converted layer {} ({} bytes) to {} {} ({} bytes) in {} ms",
          source,
          sourceSize,
          format.settingsKey(),
          result.digest(),
          result.size(),
          elapsed.toMillis());
      return converted;
    } catch (IOException e) {
      metrics.conversionFailed(format.name(), "storage");
      return new LayerOutcome.Failed("storage: " + e.getMessage());
    } finally {
      try {
        Files.deleteIfExists(spool);
      } catch (IOException ignored) {
        // removed with the rest of .tmp at the next start
      }
    }
  }

  /**
   * Makes sure a converted blob is in the store when the store lost it (eviction, a wiped cache):
   * conversion is deterministic, so converting its source again (a layer), or rewriting its source
   * config again (a config), gives the same bytes. A digest transship never produced, or produced
   * with other settings, is left alone. Returns whether it regenerated the blob.
   */
  boolean regenerateBlobIfConverted(Route route, Digest digest) {
    try {
      if (store.stat(digest).isPresent()) {
        return false;
      }
    } catch (IOException e) {
      return false;
    }
    Optional<ConversionIndex.Origin> origin = index.origin(digest);
    if (origin.isEmpty()) {
      return false;
    }
    LayerFormat format = formats.forRoute(route, origin.get().format());
    if (!format.settingsKey().equals(origin.get().settings())) {
      LOG.warn("cannot regenerate {}: made with settings {}", digest, origin.get().settings());
      return false; // made with other settings: these can't reproduce it
    }
    LOG.info(
        "regenerating evicted converted {} {} from {}",
        origin.get().kind(),
        digest,
        origin.get().source());
    return switch (origin.get().kind()) {
      case ConversionIndex.Origin.LAYER -> regenerateLayer(route, format, digest, origin.get());
      case ConversionIndex.Origin.CONFIG -> regenerateConfig(route, digest, origin.get());
      default -> false;
    };
  }

  private boolean regenerateLayer(
      Route route, LayerFormat format, Digest digest, ConversionIndex.Origin origin) {
    ImageConverter.LayerJob job =
        new ImageConverter.LayerJob(0, origin.source(), 0, origin.sourceMediaType());
    LayerOutcome outcome =
        outcomeOf(convertLayer(route, format, job, null, ConversionListener.NONE));
    if (outcome instanceof LayerOutcome.Converted converted
        && converted.descriptor().digest().equals(digest)) {
      return true;
    }
    LOG.warn("cannot regenerate {}: {}", digest, outcome);
    return false;
  }

  private boolean regenerateConfig(Route route, Digest digest, ConversionIndex.Origin origin) {
    try {
      byte[] rewritten =
          ConfigRewriter.withDiffIds(configBytes(route, origin.source(), -1), origin.diffIds());
      if (!Digest.sha256(rewritten).equals(digest)) {
        LOG.warn("cannot regenerate config {}: rewriting gives other bytes", digest);
        return false;
      }
      storeBlob(digest, rewritten);
      return true;
    } catch (IOException | RegistryException e) {
      LOG.warn("cannot regenerate config {}: {}", digest, e.getMessage());
      return false;
    }
  }

  /** Like {@link #regenerateBlobIfConverted}, for a converted manifest asked for by digest. */
  void regenerateManifestIfConverted(Route route, Digest digest) {
    if (repository.get(digest).isPresent()) {
      return;
    }
    Optional<ConversionIndex.Origin> origin = index.origin(digest);
    if (origin.isEmpty() || !ConversionIndex.Origin.MANIFEST.equals(origin.get().kind())) {
      return;
    }
    LOG.info("regenerating evicted converted manifest {} from {}", digest, origin.get().source());
    try {
      ManifestDocument source = fetchManifest.apply(route, origin.get().source());
      ManifestDocument again =
          SingleFlight.await(
              convert(route, source, origin.get().format(), ConversionListener.NONE));
      if (!again.digest().equals(digest)) {
        LOG.warn("regenerated {} but got {} (settings changed?)", digest, again.digest());
      }
    } catch (RuntimeException e) {
      LOG.warn("cannot regenerate {}: {}", digest, rootMessage(e));
    }
  }

  private static String rootMessage(Throwable error) {
    Throwable cause = error;
    while (cause.getCause() != null && cause != cause.getCause()) {
      cause = cause.getCause();
    }
    return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
  }

  /**
   * Waits until no layer or manifest conversion is running, or {@code timeout} passes (graceful
   * shutdown); returns how many were still running at the end.
   */
  int awaitIdle(Duration timeout) throws InterruptedException {
    CompletableFuture<?>[] running =
        java.util.stream.Stream.concat(
                layers.inProgress().stream(), manifests.inProgress().stream())
            .filter(f -> !f.isDone())
            .toArray(CompletableFuture[]::new);
    try {
      CompletableFuture.allOf(running).get(Math.max(0, timeout.toMillis()), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      // failed conversions count as finished; the rest are counted below
    }
    return (int) java.util.Arrays.stream(running).filter(f -> !f.isDone()).count();
  }

  @Override
  public void close() {
    cpu.shutdownNow();
    orchestration.shutdownNow();
  }
}
