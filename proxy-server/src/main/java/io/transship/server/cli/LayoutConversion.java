package io.transship.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.transship.converter.ImageConverter;
import io.transship.converter.LayerOutcome;
import io.transship.converter.LayerReplacement;
import io.transship.converter.LayerRules;
import io.transship.converter.LayerTranscoder;
import io.transship.converter.ManifestRewriter;
import io.transship.converter.TranscodeResult;
import io.transship.oci.Digest;
import io.transship.oci.ManifestDocument;
import io.transship.oci.MediaTypes;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Converts every image of an OCI image layout (image spec v1.1, "OCI Image Layout") into a new
 * layout: blobs are copied, gzip layers transcoded, manifests and indexes rewritten with the same
 * {@link ManifestRewriter} the proxy uses; {@code index.json} points at the converted manifests and
 * keeps their annotations (e.g. {@code org.opencontainers.image.ref.name}).
 */
final class LayoutConversion {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final LayerTranscoder transcoder;
  private final String format;
  private final boolean changesDiffIds;
  private final Map<Digest, LayerOutcome> layers = new HashMap<>();
  private final Map<Digest, ManifestDocument> manifests = new HashMap<>();
  private Path in;
  private Path out;

  /**
   * @param format the format's name ({@code zstd}, {@code estargz}) for the rewritten manifests
   * @param changesDiffIds whether converted layers get new diff_ids (eStargz): configs are
   *     rewritten
   */
  LayoutConversion(LayerTranscoder transcoder, String format, boolean changesDiffIds) {
    this.transcoder = transcoder;
    this.format = format;
    this.changesDiffIds = changesDiffIds;
  }

  void convert(Path input, Path output) throws IOException {
    this.in = input;
    this.out = output;
    if (!Files.isRegularFile(input.resolve("index.json"))) {
      throw new IOException(input + " is not an OCI image layout (no index.json)");
    }
    Files.createDirectories(output.resolve("blobs/sha256"));
    Files.writeString(output.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
    ObjectNode index = (ObjectNode) JSON.readTree(input.resolve("index.json").toFile());
    ArrayNode entries = (ArrayNode) index.path("manifests");
    for (JsonNode entry : entries) {
      String sourceDigest = entry.path("digest").asText();
      ManifestDocument converted = convertManifest(Digest.parse(sourceDigest));
      ObjectNode descriptor = (ObjectNode) entry;
      descriptor.put("mediaType", converted.mediaType());
      descriptor.put("digest", converted.digest().toString());
      descriptor.put("size", converted.size());
      System.out.printf(
          "%s %s -> %s%n",
          entry.path("annotations").path("org.opencontainers.image.ref.name").asText("(untagged)"),
          shortOf(sourceDigest),
          converted.digest());
    }
    Files.write(output.resolve("index.json"), JSON.writeValueAsBytes(index));
    for (JsonNode entry : entries) {
      copyReachable(entry);
    }
  }

  private ManifestDocument convertManifest(Digest digest) throws IOException {
    ManifestDocument cached = manifests.get(digest);
    if (cached != null) {
      return cached;
    }
    ManifestDocument source = ManifestDocument.of(Files.readAllBytes(blob(in, digest)), null);
    ManifestDocument result = source;
    if (MediaTypes.isIndex(source.mediaType())) {
      Map<Digest, ManifestDocument> children = new LinkedHashMap<>();
      for (JsonNode child : source.json().path("manifests")) {
        Digest childDigest = Digest.parse(child.path("digest").asText());
        if (!LayerRules.isAttestationChild(child) && Files.exists(blob(in, childDigest))) {
          ManifestDocument converted = convertManifest(childDigest);
          if (!converted.digest().equals(childDigest)) {
            children.put(childDigest, converted);
          }
        }
      }
      if (!children.isEmpty()) {
        result =
            ManifestDocument.of(
                ManifestRewriter.rewriteIndex(source, children, format), MediaTypes.OCI_INDEX);
      }
    } else if (MediaTypes.OCI_MANIFEST.equals(source.mediaType())
        || MediaTypes.DOCKER_MANIFEST.equals(source.mediaType())) {
      result = convertImage(source);
    }
    if (result != source) {
      Files.write(blob(out, result.digest()), result.bytes());
    }
    manifests.put(digest, result);
    return result;
  }

  /** The same {@link ImageConverter} steps as the proxy, over the layout's files. */
  private ManifestDocument convertImage(ManifestDocument source) throws IOException {
    Optional<ImageConverter.Plan> plan = ImageConverter.plan(source, false);
    if (plan.isEmpty()) {
      return source;
    }
    byte[] config = Files.readAllBytes(blob(in, plan.get().config()));
    List<Digest> diffIds = ImageConverter.diffIds(plan.get(), config).orElse(List.of());
    Map<Digest, LayerOutcome> outcomes = new LinkedHashMap<>();
    for (ImageConverter.LayerJob job : plan.get().layers()) {
      Digest diffId = diffIds.isEmpty() ? null : diffIds.get(job.index());
      try {
        outcomes.put(job.digest(), convertLayer(job.digest(), job.mediaType(), diffId));
      } catch (IOException e) {
        outcomes.put(job.digest(), LayerOutcome.ofTranscodeFailure(e));
      }
    }
    ImageConverter.Result result =
        ImageConverter.assemble(plan.get(), config, outcomes, format, changesDiffIds);
    result.problems().forEach(problem -> System.err.println(source.digest() + ": " + problem));
    if (!result.complete()) {
      throw new IOException(source.digest() + ": conversion incomplete");
    }
    if (result.config() != null) {
      Files.write(blob(out, result.configDigest()), result.config());
    }
    return result.manifest();
  }

  private LayerOutcome convertLayer(Digest digest, String mediaType, Digest diffId)
      throws IOException {
    LayerOutcome done = layers.get(digest);
    if (done != null) {
      return done;
    }
    Path source = blob(in, digest);
    Path partial = out.resolve("blobs/sha256/.converting");
    TranscodeResult result;
    try (ProgressBar bar = new ProgressBar(shortOf(digest.toString()), Files.size(source));
        InputStream input =
            new BufferedInputStream(bar.track(Files.newInputStream(source)), 1 << 16);
        OutputStream output = new BufferedOutputStream(Files.newOutputStream(partial), 1 << 16)) {
      result = transcoder.transcode(input, LayerRules.compressionOf(mediaType), diffId, output);
    }
    Files.move(partial, blob(out, result.digest()), StandardCopyOption.REPLACE_EXISTING);
    LayerOutcome converted =
        new LayerOutcome.Converted(LayerReplacement.of(result), result.diffId());
    layers.put(digest, converted);
    return converted;
  }

  /**
   * Copies into the output what a descriptor references and the output lacks (unconverted
   * manifests, configs, layers kept as they were, attestations), following manifests and indexes:
   * the output layout holds only blobs reachable from its {@code index.json}.
   */
  private void copyReachable(JsonNode descriptor) throws IOException {
    if (!descriptor.path("digest").isTextual()) {
      return;
    }
    Digest digest = Digest.parse(descriptor.path("digest").asText());
    Path target = blob(out, digest);
    if (!Files.exists(target)) {
      Path source = blob(in, digest);
      if (!Files.exists(source)) {
        return; // not in the input either (e.g. a platform that was not pulled)
      }
      Files.copy(source, target);
    }
    String mediaType = descriptor.path("mediaType").asText();
    if (MediaTypes.isIndex(mediaType)
        || MediaTypes.OCI_MANIFEST.equals(mediaType)
        || MediaTypes.DOCKER_MANIFEST.equals(mediaType)) {
      JsonNode json = JSON.readTree(target.toFile());
      copyReachable(json.path("config"));
      for (JsonNode child : json.path("manifests")) {
        copyReachable(child);
      }
      for (JsonNode layer : json.path("layers")) {
        copyReachable(layer);
      }
    }
  }

  private static Path blob(Path layout, Digest digest) {
    return layout.resolve("blobs").resolve(digest.algorithm()).resolve(digest.encoded());
  }

  private static String shortOf(String digest) {
    return digest.length() > 19 ? digest.substring(0, 19) : digest;
  }
}
