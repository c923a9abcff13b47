package io.transship.server.service;

import com.fasterxml.jackson.databind.JsonNode;
import io.transship.converter.ConfigRewriter;
import io.transship.converter.ImageConfig;
import io.transship.converter.LayerReplacement;
import io.transship.converter.LayerRules;
import io.transship.converter.ManifestRewriter;
import io.transship.converter.TranscodeResult;
import io.transship.oci.Digest;
import io.transship.oci.ManifestDocument;
import io.transship.oci.MediaTypes;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Converts images on first pull. Single flight at two levels: a source manifest is converted once
 * per format, and a source layer once per conversion settings — across repositories, tags and
 * concurrent requests. Downloads and orchestration run on virtual threads; the CPU-bound
 * transcoding on a fixed pool sized by {@code conversion.workers}. A layer whose conversion fails
 * keeps its original descriptor (an OCI manifest may mix compressions); an image in which nothing
 * converted stays the original.
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
  private final Map<String, CompletableFuture<ConvertedLayer>> layers = new ConcurrentHashMap<>();
  private final Map<String, CompletableFuture<ManifestDocument>> manifests =
      new ConcurrentHashMap<>();

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
      LOG.warn("conversion of {} failed: {}", source.digest(), e.getCause().getMessage());
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

  /** Converts {@code source} (single flight per source digest and format). */
  public CompletableFuture<ManifestDocument> convert(
      Route route, ManifestDocument source, String format, ConversionListener listener) {
    String key = formats.forRoute(route, format).settingsKey() + "/" + source.digest();
    CompletableFuture<ManifestDocument> future =
        manifests.computeIfAbsent(
            key,
            k ->
                CompletableFuture.supplyAsync(
                    () -> convertNow(route, source, format, listener), orchestration));
    future.whenComplete((doc, error) -> manifests.remove(key, future));
    return future;
  }

  private ManifestDocument convertNow(
      Route route, ManifestDocument source, String format, ConversionListener listener) {
    LayerFormat layerFormat = formats.forRoute(route, format);
    Optional<ManifestDocument> done = recorded(route, source, format);
    if (done.isPresent()) {
      listener.manifestFinished(source.digest(), done.get().digest());
      return done.get();
    }
    listener.manifestStarted(source.digest(), source.mediaType());
    ManifestDocument converted;
    if (MediaTypes.isIndex(source.mediaType())) {
      converted = convertIndex(route, source, format, listener);
    } else if (MediaTypes.OCI_MANIFEST.equals(source.mediaType())
        || MediaTypes.DOCKER_MANIFEST.equals(source.mediaType())) {
      converted = convertImage(route, source, layerFormat, listener);
    } else {
      converted = source; // schema1 and anything unknown pass through
    }
    if (converted != source) {
      repository.put(converted);
      index.putOrigin(
          converted.digest(),
          new ConversionIndex.Origin(
              ConversionIndex.Origin.MANIFEST,
              format,
              layerFormat.settingsKey(),
              source.digest(),
              source.mediaType()));
    }
    index.putManifest(layerFormat.settingsKey(), source.digest(), converted.digest());
    listener.manifestFinished(source.digest(), converted.digest());
    return converted;
  }

  private ManifestDocument convertIndex(
      Route route, ManifestDocument source, String format, ConversionListener listener) {
    Map<Digest, CompletableFuture<ManifestDocument>> children = new LinkedHashMap<>();
    for (JsonNode child : source.json().path("manifests")) {
      String type = child.path("mediaType").asText();
      boolean image =
          MediaTypes.OCI_MANIFEST.equals(type) || MediaTypes.DOCKER_MANIFEST.equals(type);
      if (!image || LayerRules.isAttestationChild(child)) {
        continue;
      }
      Digest digest = Digest.parse(child.path("digest").asText());
      ManifestDocument childDoc = fetchManifest.apply(route, digest);
      children.put(digest, convert(route, childDoc, format, listener));
    }
    Map<Digest, ManifestDocument> converted = new HashMap<>();
    children.forEach((digest, future) -> {
      ManifestDocument result = future.join();
      if (!result.digest().equals(digest)) {
        converted.put(digest, result);
      }
    });
    if (converted.isEmpty()) {
      return source;
    }
    byte[] bytes = ManifestRewriter.rewriteIndex(source, converted, format);
    return ManifestDocument.of(bytes, MediaTypes.OCI_INDEX);
  }

  private ManifestDocument convertImage(
      Route route, ManifestDocument source, LayerFormat format, ConversionListener listener) {
    JsonNode json = source.json();
    JsonNode config = json.path("config");
    if (!LayerRules.isImageConfig(config.path("mediaType").asText())) {
      return source; // an artifact, not an image
    }
    List<Integer> convertible = new ArrayList<>();
    JsonNode layerNodes = json.path("layers");
    for (int i = 0; i < layerNodes.size(); i++) {
      JsonNode layer = layerNodes.get(i);
      if (LayerRules.isConvertibleLayer(
          layer.path("mediaType").asText(),
          layer.has("urls"),
          annotations(layer),
          includeUncompressed)) {
        convertible.add(i);
      }
    }
    if (convertible.isEmpty()) {
      return source;
    }
    Digest configDigest = Digest.parse(config.path("digest").asText());
    byte[] configBytes = configBytes(route, configDigest);
    List<Digest> diffIds = diffIds(configBytes);
    if (diffIds.size() != layerNodes.size()) {
      LOG.warn(
          "{}: config lists {} diff_ids for {} layers; not converting",
          source.digest(),
          diffIds.size(),
          layerNodes.size());
      return source;
    }
    Map<Integer, CompletableFuture<ConvertedLayer>> futures = new LinkedHashMap<>();
    for (int i : convertible) {
      JsonNode layer = layerNodes.get(i);
      futures.put(
          i,
          convertLayer(
              route,
              format,
              Digest.parse(layer.path("digest").asText()),
              layer.path("size").asLong(),
              layer.path("mediaType").asText(),
              diffIds.get(i),
              listener));
    }
    Map<Digest, LayerReplacement> replacements = new LinkedHashMap<>();
    List<Digest> newDiffIds = new ArrayList<>(diffIds);
    futures.forEach((i, future) -> {
      Digest digest = Digest.parse(layerNodes.get(i).path("digest").asText());
      try {
        ConvertedLayer converted = future.join();
        replacements.put(digest, converted.descriptor());
        newDiffIds.set(i, converted.diffId());
      } catch (CompletionException e) {
        LOG.warn("layer {} keeps its original form: {}", digest, rootMessage(e));
      }
    });
    if (replacements.isEmpty()) {
      return source;
    }
    Digest newConfig = null;
    long newConfigSize = 0;
    if (format.changesDiffIds()) {
      byte[] rewritten;
      try {
        rewritten = ConfigRewriter.withDiffIds(configBytes, newDiffIds);
        newConfig = Digest.sha256(rewritten);
        newConfigSize = rewritten.length;
        storeBlob(newConfig, rewritten);
      } catch (IOException e) {
        LOG.warn(
            "{}: cannot rewrite its config ({}); not converting", source.digest(), e.getMessage());
        return source;
      }
    }
    byte[] bytes =
        ManifestRewriter.rewriteImage(
            source, replacements, newConfig, newConfigSize, format.name());
    return ManifestDocument.of(bytes, MediaTypes.OCI_MANIFEST);
  }

  private void storeBlob(Digest digest, byte[] content) throws IOException {
    try (var writer = store.newWriter(digest)) {
      writer.write(content, 0, content.length);
      writer.commit();
    }
  }

  private byte[] configBytes(Route route, Digest config) {
    blobs.ensureLocal(route, config);
    try (InputStream in = store.open(config, null)) {
      return in.readNBytes(ManifestDocument.MAX_BYTES);
    } catch (IOException e) {
      throw new io.transship.oci.RegistryException(
          io.transship.oci.ErrorCode.UNAVAILABLE, "cannot read image config " + config);
    }
  }

  private static List<Digest> diffIds(byte[] config) {
    try {
      return ImageConfig.diffIds(config);
    } catch (IOException e) {
      LOG.warn("image config without usable diff_ids: {}", e.getMessage());
      return List.of();
    }
  }

  /** A converted layer: its descriptor and the diff_id of its uncompressed tar. */
  record ConvertedLayer(LayerReplacement descriptor, Digest diffId) {}

  /** Converts one layer (single flight per source digest and settings). */
  CompletableFuture<ConvertedLayer> convertLayer(
      Route route,
      LayerFormat format,
      Digest digest,
      long size,
      String mediaType,
      Digest diffId,
      ConversionListener listener) {
    String key = format.settingsKey() + "/" + digest;
    listener.layerStarted(digest, size);
    CompletableFuture<ConvertedLayer> future =
        layers.computeIfAbsent(
            key,
            k ->
                CompletableFuture.supplyAsync(
                    () -> {
                      return leases.run(
                          format.settingsKey(),
                          digest,
                          () -> storedConversion(format, digest),
                          () -> {
                            blobs.ensureLocal(route, digest); // virtual thread: may download
                            return CompletableFuture.supplyAsync(
                                    () -> transcode(format, digest, mediaType, diffId), cpu)
                                .join();
                          });
                    },
                    orchestration));
    future.whenComplete((converted, error) -> {
      layers.remove(key, future);
      if (error == null) {
        listener.layerFinished(digest, converted.descriptor());
      } else {
        listener.layerFailed(digest, rootMessage(error));
      }
    });
    return future;
  }

  private Optional<ConvertedLayer> storedConversion(LayerFormat format, Digest source) {
    Optional<ConvertedLayer> recorded = index.layer(format.settingsKey(), source);
    try {
      if (recorded.isPresent() && store.stat(recorded.get().descriptor().digest()).isPresent()) {
        return recorded;
      }
    } catch (IOException e) {
      LOG.warn("cannot stat converted layer of {}: {}", source, e.getMessage());
    }
    return Optional.empty();
  }

  private ConvertedLayer transcode(
      LayerFormat format, Digest source, String mediaType, Digest diffId) {
    long started = System.nanoTime();
    metrics.conversionStarted(format.name());
    Path spool =
        spoolDir.resolve("convert-" + source.encoded() + "-" + UUID.randomUUID() + ".part");
    try {
      long sourceSize = store.stat(source).orElseThrow(() -> new IOException("source gone")).size();
      TranscodeResult result;
      try (InputStream in = store.open(source, null);
          FileOutputStream file = new FileOutputStream(spool.toFile());
          OutputStream out = new BufferedOutputStream(file, 256 * 1024)) {
        result =
            format.transcoder().transcode(in, LayerRules.compressionOf(mediaType), diffId, out);
        out.flush();
        file.getFD().sync();
      }
      store.putVerifiedFile(result.digest(), spool);
      ConvertedLayer converted = new ConvertedLayer(LayerReplacement.of(result), result.diffId());
      index.putLayer(format.settingsKey(), source, converted);
      index.putOrigin(
          result.digest(),
          new ConversionIndex.Origin(
              ConversionIndex.Origin.LAYER,
              format.name(),
              format.settingsKey(),
              source,
              mediaType));
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
    } catch (IOException | RuntimeException e) {
      metrics.conversionFailed(format.name(), e.getClass().getSimpleName());
      throw new CompletionException(e);
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
   * conversion is deterministic, so converting its source again gives the same bytes. A digest
   * transship never produced, or produced with other settings, is left alone. Returns whether it
   * regenerated the blob.
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
    if (origin.isEmpty() || !ConversionIndex.Origin.LAYER.equals(origin.get().kind())) {
      return false;
    }
    LayerFormat format = formats.forRoute(route, origin.get().format());
    if (!format.settingsKey().equals(origin.get().settings())) {
      return false; // made with other settings: these can't reproduce it
    }
    LOG.info("regenerating evicted converted layer {} from {}", digest, origin.get().source());
    try {
      convertLayer(
              route,
              format,
              origin.get().source(),
              0,
              origin.get().sourceMediaType(),
              null,
              ConversionListener.NONE)
          .join();
      return true;
    } catch (CompletionException e) {
      LOG.warn("cannot regenerate {}: {}", digest, rootMessage(e));
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
          convert(route, source, origin.get().format(), ConversionListener.NONE).join();
      if (!again.digest().equals(digest)) {
        LOG.warn("regenerated {} but got {} (settings changed?)", digest, again.digest());
      }
    } catch (CompletionException | io.transship.oci.RegistryException e) {
      LOG.warn("cannot regenerate {}: {}", digest, e.getMessage());
    }
  }

  private static Map<String, String> annotations(JsonNode descriptor) {
    Map<String, String> annotations = new HashMap<>();
    descriptor
        .path("annotations")
        .fields()
        .forEachRemaining(e -> annotations.put(e.getKey(), e.getValue().asText()));
    return annotations;
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
        java.util.stream.Stream.concat(layers.values().stream(), manifests.values().stream())
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
