package io.transship.converter;

import com.fasterxml.jackson.databind.JsonNode;
import io.transship.oci.Digest;
import io.transship.oci.ManifestDocument;
import io.transship.oci.MediaTypes;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The conversion of one image manifest, as two pure steps around the layer work the caller does
 * (the proxy on its store and worker pool, {@code transship convert} on a layout's files):
 *
 * <ol>
 *   <li>{@link #plan}: which layers of an image manifest (OCI image spec v1.1 "Image Manifest", or
 *       Docker schema 2) to convert, by {@link LayerRules};
 *   <li>{@link #assemble}: the source manifest, its config and one {@link LayerOutcome} per planned
 *       layer &rarr; the new manifest (by {@link ManifestRewriter}), the new config when the format
 *       changes diff_ids (by {@link ConfigRewriter}), and whether the result is final.
 * </ol>
 *
 * A result is <em>complete</em> when no layer failed transiently: only complete results may be
 * recorded as "the conversion of this manifest"; an incomplete one is served as it is and converted
 * further on a later pull.
 */
public final class ImageConverter {
  private ImageConverter() {}

  /** One layer to convert: its position in {@code layers}, descriptor fields and diff_id. */
  public record LayerJob(int index, Digest digest, long size, String mediaType) {}

  /** The layers of {@code source} to convert, and the config that lists their diff_ids. */
  public record Plan(ManifestDocument source, Digest config, List<LayerJob> layers) {
    public Plan {
      layers = List.copyOf(layers);
    }
  }

  /**
   * What converting the image gave.
   *
   * @param manifest the manifest to serve (the source itself when nothing was converted)
   * @param config the rewritten config's bytes, or null when the config is unchanged
   * @param configDigest the digest of {@code config}, or null
   * @param complete whether every layer ended converted or permanently kept
   * @param problems one line per layer not converted, for logs
   */
  public record Result(
      ManifestDocument manifest,
      byte[] config,
      Digest configDigest,
      boolean complete,
      List<String> problems) {
    public Result {
      problems = List.copyOf(problems);
    }

    static Result unchanged(ManifestDocument source, boolean complete, List<String> problems) {
      return new Result(source, null, null, complete, problems);
    }
  }

  /**
   * The layers of an image manifest to convert; empty when {@code source} is not an image manifest,
   * describes an artifact rather than an image, has more than {@link LayerRules#MAX_IMAGE_LAYERS}
   * layers, or has no convertible layer.
   */
  public static Optional<Plan> plan(ManifestDocument source, boolean includeUncompressed) {
    if (!MediaTypes.OCI_MANIFEST.equals(source.mediaType())
        && !MediaTypes.DOCKER_MANIFEST.equals(source.mediaType())) {
      return Optional.empty();
    }
    JsonNode json = source.json();
    JsonNode config = json.path("config");
    if (!LayerRules.isImageConfig(config.path("mediaType").asText())) {
      return Optional.empty(); // an artifact, not an image
    }
    List<LayerJob> jobs = new ArrayList<>();
    JsonNode layers = json.path("layers");
    if (layers.size() > LayerRules.MAX_IMAGE_LAYERS) {
      return Optional.empty(); // hostile: one request must not start this many conversions
    }
    for (int i = 0; i < layers.size(); i++) {
      JsonNode layer = layers.get(i);
      String mediaType = layer.path("mediaType").asText();
      if (LayerRules.isConvertibleLayer(
          mediaType, layer.has("urls"), annotations(layer), includeUncompressed)) {
        jobs.add(
            new LayerJob(
                i,
                Digest.parse(layer.path("digest").asText()),
                layer.path("size").asLong(),
                mediaType));
      }
    }
    if (jobs.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Plan(source, Digest.parse(config.path("digest").asText()), jobs));
  }

  /**
   * The diff_ids of the config, checked against the manifest's layer count; empty (and the image
   * kept whole) when they don't line up.
   */
  public static Optional<List<Digest>> diffIds(Plan plan, byte[] configBytes) {
    try {
      List<Digest> diffIds = ImageConfig.diffIds(configBytes);
      int layers = plan.source().json().path("layers").size();
      return diffIds.size() == layers ? Optional.of(diffIds) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * Assembles the converted image from the outcome of each planned layer (keyed by source digest; a
   * missing outcome counts as failed).
   *
   * @param format the format's name, for {@link ManifestRewriter#FORMAT_ANNOTATION}
   * @param changesDiffIds whether converted layers have new diff_ids (eStargz), so the config is
   *     rewritten
   */
  public static Result assemble(
      Plan plan,
      byte[] configBytes,
      Map<Digest, LayerOutcome> outcomes,
      String format,
      boolean changesDiffIds) {
    Optional<List<Digest>> sourceDiffIds = diffIds(plan, configBytes);
    if (sourceDiffIds.isEmpty()) {
      return Result.unchanged(
          plan.source(), true, List.of("config diff_ids do not match the layers; not converting"));
    }
    List<Digest> diffIds = new ArrayList<>(sourceDiffIds.get());
    Map<Digest, LayerReplacement> replacements = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    boolean complete = true;
    for (LayerJob job : plan.layers()) {
      LayerOutcome outcome =
          outcomes.getOrDefault(job.digest(), new LayerOutcome.Failed("not converted"));
      switch (outcome) {
        case LayerOutcome.Converted converted -> {
          replacements.put(job.digest(), converted.descriptor());
          diffIds.set(job.index(), converted.diffId());
        }
        case LayerOutcome.Kept kept ->
            problems.add("layer " + job.digest() + " kept: " + kept.reason());
        case LayerOutcome.Failed failed -> {
          complete = false;
          problems.add("layer " + job.digest() + " not converted this time: " + failed.reason());
        }
      }
    }
    if (replacements.isEmpty()) {
      return Result.unchanged(plan.source(), complete, problems);
    }
    byte[] config = null;
    Digest configDigest = null;
    if (changesDiffIds) {
      try {
        config = ConfigRewriter.withDiffIds(configBytes, diffIds);
      } catch (IOException e) {
        problems.add("config cannot be rewritten: " + e.getMessage());
        return Result.unchanged(plan.source(), true, problems);
      }
      configDigest = Digest.sha256(config);
    }
    byte[] manifest =
        ManifestRewriter.rewriteImage(
            plan.source(), replacements, configDigest, config == null ? 0 : config.length, format);
    return new Result(
        ManifestDocument.of(manifest, MediaTypes.OCI_MANIFEST),
        config,
        configDigest,
        complete,
        problems);
  }

  /**
   * The image children of an index (OCI image spec v1.1 "Image Index") to convert: image manifests,
   * never attestation manifests; none when the index has more than {@link
   * LayerRules#MAX_INDEX_CHILDREN} children.
   */
  public static List<Digest> convertibleChildren(ManifestDocument index) {
    List<Digest> children = new ArrayList<>();
    if (index.json().path("manifests").size() > LayerRules.MAX_INDEX_CHILDREN) {
      return children; // hostile: one request must not start this many upstream requests
    }
    for (JsonNode child : index.json().path("manifests")) {
      String type = child.path("mediaType").asText();
      boolean image =
          MediaTypes.OCI_MANIFEST.equals(type) || MediaTypes.DOCKER_MANIFEST.equals(type);
      if (image && !LayerRules.isAttestationChild(child)) {
        children.add(Digest.parse(child.path("digest").asText()));
      }
    }
    return children;
  }

  /**
   * The index pointing at converted children ({@code converted}: source child digest &rarr; its
   * converted manifest; children not listed stay); the source itself when nothing changed.
   */
  public static ManifestDocument assembleIndex(
      ManifestDocument index, Map<Digest, ManifestDocument> converted, String format) {
    Map<Digest, ManifestDocument> changed = new LinkedHashMap<>();
    converted.forEach((digest, doc) -> {
      if (!doc.digest().equals(digest)) {
        changed.put(digest, doc);
      }
    });
    if (changed.isEmpty()) {
      return index;
    }
    return ManifestDocument.of(
        ManifestRewriter.rewriteIndex(index, changed, format), MediaTypes.OCI_INDEX);
  }

  private static Map<String, String> annotations(JsonNode descriptor) {
    Map<String, String> annotations = new HashMap<>();
    descriptor
        .path("annotations")
        .fields()
        .forEachRemaining(e -> annotations.put(e.getKey(), e.getValue().asText()));
    return annotations;
  }
}
