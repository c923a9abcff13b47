package io.transship.converter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.transship.oci.Digest;
import io.transship.oci.ManifestDocument;
import io.transship.oci.MediaTypes;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Writes the manifests of a converted image: an OCI image manifest whose layer descriptors point at
 * the converted blobs, and an OCI index whose entries point at the converted manifests.
 *
 * <p>Works on the JSON tree, never on typed objects, so fields this code does not know (vendor
 * extensions, {@code subject}, {@code artifactType}, future spec additions) and every annotation
 * survive, in their original order. The output is compact UTF-8 JSON and a pure function of the
 * inputs, so the same source always gives the same bytes and therefore the same digest.
 *
 * <p>Docker media types are translated to their OCI equivalents (OCI image spec v1.1,
 * "Compatibility Matrix"): the result may mix zstd and gzip layers, which only an OCI manifest can
 * express ("Image Manifest": {@code layers} may use any of the layer media types).
 */
public final class ManifestRewriter {

  /** Manifest annotation naming the digest of the upstream manifest this one was converted from. */
  public static final String SOURCE_DIGEST_ANNOTATION = "io.transship.source.digest";

  /** Manifest annotation naming the conversion ({@code zstd-l3}, ...) that produced it. */
  public static final String FORMAT_ANNOTATION = "io.transship.format";

  private static final Map<String, String> OCI_LAYER_TYPES =
      Map.of(
          MediaTypes.DOCKER_LAYER_GZIP, MediaTypes.OCI_LAYER_GZIP,
          LayerRules.DOCKER_FOREIGN_LAYER_GZIP, LayerRules.OCI_NONDISTRIBUTABLE_LAYER_GZIP);

  private ManifestRewriter() {}

  /**
   * Rewrites an OCI image manifest or Docker schema 2 manifest as an OCI image manifest (OCI image
   * spec v1.1, "Image Manifest").
   *
   * @param source the upstream manifest
   * @param layers the converted layers by source layer digest; layers not listed keep their blob
   *     (entries for digests the manifest does not have are ignored)
   * @param newConfigDigest the digest of a new config blob, or null to keep the config blob
   * @param newConfigSize the new config blob's size; ignored when {@code newConfigDigest} is null
   * @param format the conversion's name for {@link #FORMAT_ANNOTATION}
   * @return the new manifest's bytes
   * @throws IllegalArgumentException if {@code source} is not an image manifest with a {@code
   *     config} and a {@code layers} list of descriptors
   */
  public static byte[] rewriteImage(
      ManifestDocument source,
      Map<Digest, LayerReplacement> layers,
      Digest newConfigDigest,
      long newConfigSize,
      String format) {
    Objects.requireNonNull(layers, "layers");
    requireFormat(format);
    String type = source.mediaType();
    if (!MediaTypes.OCI_MANIFEST.equals(type) && !MediaTypes.DOCKER_MANIFEST.equals(type)) {
      throw new IllegalArgumentException("not an image manifest: " + type);
    }
    if (newConfigDigest != null && newConfigSize < 0) {
      throw new IllegalArgumentException("config size must not be negative: " + newConfigSize);
    }
    ObjectNode manifest = withMediaType(parseObject(source), MediaTypes.OCI_MANIFEST);

    ObjectNode config = objectField(manifest, "config");
    if (MediaTypes.DOCKER_CONFIG.equals(config.path("mediaType").textValue())) {
      config.put("mediaType", MediaTypes.OCI_CONFIG); // same JSON; OCI image spec "config.md"
    }
    if (newConfigDigest != null) {
      config.put("digest", newConfigDigest.toString());
      config.put("size", newConfigSize);
    }

    JsonNode layerList = manifest.get("layers");
    if (layerList == null || !layerList.isArray()) {
      throw new IllegalArgumentException("manifest has no layers list");
    }
    for (JsonNode node : layerList) {
      ObjectNode layer = descriptor(node, "layers");
      LayerReplacement replacement = layers.get(digestOf(layer, "layers"));
      if (replacement != null) {
        replaceLayer(layer, replacement);
      } else {
        String ociType = OCI_LAYER_TYPES.get(layer.path("mediaType").textValue());
        if (ociType != null) {
          layer.put("mediaType", ociType); // same blob, OCI name for its type
        }
      }
    }
    annotate(manifest, source.digest(), format);
    return Json.write(manifest);
  }

  /**
   * Rewrites an OCI index or Docker manifest list as an OCI index (OCI image spec v1.1, "Image
   * Index") that points at the converted manifests.
   *
   * @param source the upstream index
   * @param children the converted manifests by the digest of the manifest they replace; entries not
   *     listed (attestations, unconverted manifests) are kept as they are
   * @param format the conversion's name for {@link #FORMAT_ANNOTATION}
   * @return the new index's bytes
   * @throws IllegalArgumentException if {@code source} is not an index with a {@code manifests}
   *     list of descriptors
   */
  public static byte[] rewriteIndex(
      ManifestDocument source, Map<Digest, ManifestDocument> children, String format) {
    Objects.requireNonNull(children, "children");
    requireFormat(format);
    if (!MediaTypes.isIndex(source.mediaType())) {
      throw new IllegalArgumentException("not an index: " + source.mediaType());
    }
    ObjectNode index = withMediaType(parseObject(source), MediaTypes.OCI_INDEX);
    JsonNode manifests = index.get("manifests");
    if (manifests == null || !manifests.isArray()) {
      throw new IllegalArgumentException("index has no manifests list");
    }
    for (JsonNode node : manifests) {
      ObjectNode entry = descriptor(node, "manifests");
      ManifestDocument child = children.get(digestOf(entry, "manifests"));
      if (child != null) {
        // platform, annotations and anything else describe the same image and stay
        entry.put("mediaType", child.mediaType());
        entry.put("digest", child.digest().toString());
        entry.put("size", child.size());
      }
    }
    annotate(index, source.digest(), format);
    return Json.write(index);
  }

  /** Points a layer descriptor at the converted blob; its other fields stay. */
  private static void replaceLayer(ObjectNode layer, LayerReplacement replacement) {
    layer.put("mediaType", replacement.mediaType());
    layer.put("digest", replacement.digest().toString());
    layer.put("size", replacement.size());
    if (!replacement.annotations().isEmpty()) {
      ObjectNode annotations = annotationsOf(layer);
      new TreeMap<>(replacement.annotations()).forEach(annotations::put);
    }
  }

  /** Records where the document came from in its annotations ("Annotations" of the image spec). */
  private static void annotate(ObjectNode document, Digest source, String format) {
    ObjectNode annotations = annotationsOf(document);
    annotations.put(SOURCE_DIGEST_ANNOTATION, source.toString());
    annotations.put(FORMAT_ANNOTATION, format);
  }

  /** The {@code annotations} object of a node, created (as the last field) when absent. */
  private static ObjectNode annotationsOf(ObjectNode node) {
    JsonNode annotations = node.get("annotations");
    if (annotations == null || annotations.isNull()) {
      return node.putObject("annotations");
    }
    if (!annotations.isObject()) {
      throw new IllegalArgumentException("annotations is not an object");
    }
    return (ObjectNode) annotations;
  }

  /**
   * Sets the top-level {@code mediaType} (image spec: "This property SHOULD be used"), in place
   * when present, else right after {@code schemaVersion} where every registry client writes it.
   */
  private static ObjectNode withMediaType(ObjectNode document, String mediaType) {
    if (document.has("mediaType")) {
      document.put("mediaType", mediaType);
      return document;
    }
    ObjectNode result = document.objectNode();
    if (!document.has("schemaVersion")) {
      result.put("mediaType", mediaType);
    }
    for (Map.Entry<String, JsonNode> field : document.properties()) {
      result.set(field.getKey(), field.getValue());
      if ("schemaVersion".equals(field.getKey())) {
        result.put("mediaType", mediaType);
      }
    }
    return result;
  }

  private static ObjectNode parseObject(ManifestDocument source) {
    JsonNode tree;
    try {
      tree = Json.parse(source.bytes());
    } catch (IOException e) {
      throw new IllegalArgumentException("manifest is not valid JSON: " + Json.describe(e), e);
    }
    if (!tree.isObject()) {
      throw new IllegalArgumentException("manifest is not a JSON object");
    }
    return (ObjectNode) tree;
  }

  private static ObjectNode objectField(ObjectNode parent, String name) {
    JsonNode field = parent.get(name);
    if (field == null || !field.isObject()) {
      throw new IllegalArgumentException("manifest has no " + name + " descriptor");
    }
    return (ObjectNode) field;
  }

  private static ObjectNode descriptor(JsonNode node, String list) {
    if (!node.isObject()) {
      throw new IllegalArgumentException(list + " entry is not a descriptor object");
    }
    return (ObjectNode) node;
  }

  private static Digest digestOf(ObjectNode descriptor, String list) {
    JsonNode digest = descriptor.get("digest");
    if (digest == null || !digest.isTextual()) {
      throw new IllegalArgumentException(list + " entry has no digest");
    }
    try {
      return Digest.parse(digest.textValue());
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          list + " entry has an invalid digest: " + digest.textValue(), e);
    }
  }

  private static void requireFormat(String format) {
    if (format == null || format.isBlank()) {
      throw new IllegalArgumentException("format must be named");
    }
  }
}
