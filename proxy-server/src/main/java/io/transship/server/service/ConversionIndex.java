package io.transship.server.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.transship.converter.LayerReplacement;
import io.transship.oci.Digest;
import io.transship.storage.ObjectStore;
import io.transship.storage.SmallObjects;
import io.transship.storage.StorageKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable record of finished conversions, kept in the object store so it survives restarts
 * (and, with shared storage, is seen by every replica): (source layer, settings) → converted
 * descriptor, and (source manifest, format) → converted manifest digest (the source's own digest
 * when nothing in it was convertible).
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

  Optional<ConversionService.ConvertedLayer> layer(String settings, Digest source) {
    try {
      Optional<byte[]> bytes = objects.getBytes(StorageKeys.convertedLayer(settings, source));
      if (bytes.isEmpty()) {
        return Optional.empty();
      }
      JsonNode json = JSON.readTree(bytes.get());
      Map<String, String> annotations = new LinkedHashMap<>();
      json.path("annotations")
          .fields()
          .forEachRemaining(e -> annotations.put(e.getKey(), e.getValue().asText()));
      return Optional.of(
          new ConversionService.ConvertedLayer(
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

  void putLayer(String settings, Digest source, ConversionService.ConvertedLayer layer) {
    LayerReplacement converted = layer.descriptor();
    ObjectNode json = JSON.createObjectNode();
    json.put("mediaType", converted.mediaType());
    json.put("digest", converted.digest().toString());
    json.put("size", converted.size());
    json.put("diffId", layer.diffId().toString());
    ObjectNode annotations = json.putObject("annotations");
    converted.annotations().forEach(annotations::put);
    try {
      objects.putBytes(
          StorageKeys.convertedLayer(settings, source),
          json.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      LOG.warn("cannot record conversion of layer {}: {}", source, e.getMessage());
    }
  }

  /** What a converted blob or manifest was made from. */
  record Origin(
      String kind, String format, String settings, Digest source, String sourceMediaType) {
    static final String LAYER = "layer";
    static final String MANIFEST = "manifest";
  }

  Optional<Origin> origin(Digest converted) {
    try {
      Optional<byte[]> bytes = objects.getBytes(StorageKeys.conversionOrigin(converted));
      if (bytes.isEmpty()) {
        return Optional.empty();
      }
      JsonNode json = JSON.readTree(bytes.get());
      return Optional.of(
          new Origin(
              json.path("kind").asText(),
              json.path("format").asText(),
              json.path("settings").asText(),
              Digest.parse(json.path("source").asText()),
              json.path("sourceMediaType").asText()));
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
    try {
      objects.putBytes(
          StorageKeys.conversionOrigin(converted),
          json.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      LOG.warn("cannot record origin of {}: {}", converted, e.getMessage());
    }
  }

  Optional<Digest> manifest(String format, Digest source) {
    String key = StorageKeys.convertedManifest(format, source);
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

  void putManifest(String format, Digest source, Digest converted) {
    String key = StorageKeys.convertedManifest(format, source);
    manifests.put(key, converted);
    try {
      objects.putText(key, converted.toString());
    } catch (IOException e) {
      LOG.warn("cannot record conversion of manifest {}: {}", source, e.getMessage());
    }
  }
}
