package io.transship.server.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.transship.converter.LayerOutcome;
import io.transship.converter.LayerReplacement;
import io.transship.oci.Digest;
import io.transship.storage.ObjectStore;
import io.transship.storage.SmallObjects;
import io.transship.storage.StorageKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable record of finished conversions, kept in the object store as records (never evicted)
 * so it survives restarts and eviction (and, with shared storage, is seen by every replica):
 *
 * <ul>
 *   <li>(source layer, settings) &rarr; its converted descriptor, or the permanent reason it was
 *       kept ({@link LayerOutcome.Kept}); transient failures are never recorded;
 *   <li>(source manifest, settings) &rarr; converted manifest digest (the source's own digest when
 *       nothing in it was convertible), only for complete conversions;
 *   <li>converted digest &rarr; its {@link Origin}, so an evicted converted blob, config or
 *       manifest can be rebuilt byte for byte.
 * </ul>
 */
final class ConversionIndex {
  private static final Logger LOG = LoggerFactory.getLogger(ConversionIndex.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SmallObjects objects;
  private final Cache<String, Digest> manifests =
      Caffeine.newBuilder().maximumSize(100_000).build();

  ConversionIndex(ObjectStore store) {
    this.objects = new SmallObjects(store, 1024 * 1024);
  }

  /** The recorded outcome of converting {@code source} with {@code settings}: converted or kept. */
  Optional<LayerOutcome> layer(String settings, Digest source) {
    try {
      Optional<byte[]> bytes = objects.getBytes(StorageKeys.convertedLayer(settings, source));
      if (bytes.isEmpty()) {
        return Optional.empty();
      }
      JsonNode json = JSON.readTree(bytes.get());
      if (json.has("kept")) {
        return Optional.of(new LayerOutcome.Kept(json.path("kept").asText()));
      }
      Map<String, String> annotations = new LinkedHashMap<>();
      json.path("annotations")
          .fields()
          .forEachRemaining(e -> annotations.put(e.getKey(), e.getValue().asText()));
      return Optional.of(
          new LayerOutcome.Converted(
              new LayerReplacement(
                  json.path("mediaType").asText(),
                  Digest.parse(json.path("digest").asText()),
                  json.path("size").asLong(),
                  annotations),
              Digest.parse(json.path("diffId").asText())));
    } catch (IOException | RuntimeException e) {
      LOG.warn("cannot read conversion record of layer {}: {}", source, e.getMessage());
      return Optional.empty();
    }
  }

  /** Records a final outcome; a {@link LayerOutcome.Failed} one is not final and is ignored. */
  void putLayer(String settings, Digest source, LayerOutcome outcome) {
    ObjectNode json = JSON.createObjectNode();
    switch (outcome) {
      case LayerOutcome.Converted converted -> {
        LayerReplacement descriptor = converted.descriptor();
        json.put("mediaType", descriptor.mediaType());
        json.put("digest", descriptor.digest().toString());
        json.put("size", descriptor.size());
        json.put("diffId", converted.diffId().toString());
        ObjectNode annotations = json.putObject("annotations");
        descriptor.annotations().forEach(annotations::put);
      }
      case LayerOutcome.Kept kept -> json.put("kept", kept.reason());
      case LayerOutcome.Failed failed -> {
        return;
      }
    }
    try {
      objects.putBytes(
          StorageKeys.convertedLayer(settings, source),
          json.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      LOG.warn("cannot record conversion of layer {}: {}", source, e.getMessage());
    }
  }

  /**
   * What a converted blob or manifest was made from.
   *
   * @param kind {@link #LAYER}, {@link #CONFIG} or {@link #MANIFEST}
   * @param source the source layer, source config or source manifest
   * @param diffIds for a config: the diff_ids written into the source config
   */
  record Origin(
      String kind,
      String format,
      String settings,
      Digest source,
      String sourceMediaType,
      List<Digest> diffIds) {
    static final String LAYER = "layer";
    static final String CONFIG = "config";
    static final String MANIFEST = "manifest";

    Origin {
      diffIds = diffIds == null ? List.of() : List.copyOf(diffIds);
    }
  }

  Optional<Origin> origin(Digest converted) {
    try {
      Optional<byte[]> bytes = objects.getBytes(StorageKeys.conversionOrigin(converted));
      if (bytes.isEmpty()) {
        return Optional.empty();
      }
      JsonNode json = JSON.readTree(bytes.get());
      List<Digest> diffIds = new ArrayList<>();
      json.path("diffIds").forEach(d -> diffIds.add(Digest.parse(d.asText())));
      return Optional.of(
          new Origin(
              json.path("kind").asText(),
              json.path("format").asText(),
              json.path("settings").asText(),
              Digest.parse(json.path("source").asText()),
              json.path("sourceMediaType").asText(),
              diffIds));
    } catch (IOException | RuntimeException e) {
      LOG.warn("cannot read origin of {}: {}", converted, e.getMessage());
      return Optional.empty();
    }
  }

  void putOrigin(Digest converted, Origin origin) {
    ObjectNode json = JSON.createObjectNode();
    json.put("kind", origin.kind());
    json.put("format", origin.format());
    json.put("settings", origin.settings());
    json.put("source", origin.source().toString());
    json.put("sourceMediaType", origin.sourceMediaType());
    if (!origin.diffIds().isEmpty()) {
      ArrayNode diffIds = json.putArray("diffIds");
      origin.diffIds().forEach(d -> diffIds.add(d.toString()));
    }
    try {
      objects.putBytes(
          StorageKeys.conversionOrigin(converted),
          json.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      LOG.warn("cannot record origin of {}: {}", converted, e.getMessage());
    }
  }

  Optional<Digest> manifest(String settings, Digest source) {
    String key = StorageKeys.convertedManifest(settings, source);
    Digest cached = manifests.getIfPresent(key);
    if (cached != null) {
      return Optional.of(cached);
    }
    try {
      Optional<Digest> stored = objects.getText(key).map(text -> Digest.parse(text.trim()));
      stored.ifPresent(digest -> manifests.put(key, digest));
      return stored;
    } catch (IOException | RuntimeException e) {
      LOG.warn("cannot read conversion record of manifest {}: {}", source, e.getMessage());
      return Optional.empty();
    }
  }

  void putManifest(String settings, Digest source, Digest converted) {
    String key = StorageKeys.convertedManifest(settings, source);
    manifests.put(key, converted);
    try {
      objects.putText(key, converted.toString());
    } catch (IOException e) {
      LOG.warn("cannot record conversion of manifest {}: {}", source, e.getMessage());
    }
  }
}
