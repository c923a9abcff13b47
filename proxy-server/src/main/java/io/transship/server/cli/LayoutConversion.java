package io.transship.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.transship.converter.ImageConverter;
import io.transship.converter.LayerOutcome;
import io.transship.converter.LayerReplacement;
import io.transship.converter.LayerRules;
import io.transship.converter.ManifestRewriter;
import io.transship.converter.TranscodeResult;
import io.transship.converter.ZstdTranscoder;
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
import java.util.stream.Stream;

/**
 * Converts every image of an OCI image layout (image spec v1.1, "OCI Image Layout") into a new
 * layout: blobs are copied, gzip layers transcoded, manifests and indexes rewritten with the same
 * {@link ManifestRewriter} the proxy uses; {@code index.json} points at the converted manifests and
 * keeps their annotations (e.g. {@code org.opencontainers.image.ref.name}).
 */
final class LayoutConversion {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ZstdTranscoder transcoder;
  private final Map<Digest, LayerOutcome> layers = new HashMap<>();
  private final Map<Digest, ManifestDocument> manifests = new HashMap<>();
  private Path in;
  private Path out;

  LayoutConversion(ZstdTranscoder transcoder) {
    this.transcoder = transcoder;
  }

  void convert(Path input, Path output) throws IOException {
    this.in = input;
    this.out = output;
    if (!Files.isRegularFile(input.resolve("index.json"))) {
      throw new IOException(input + " is not an OCI image layout (no index.json)");
    }
    Files.createDirectories(output.resolve("blobs/sha256"));
    copyBlobs();
    Files.writeString(output.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
    ObjectNode index = (ObjectNode) JSON.readTree(input.resolve("index.json").toFile());
    ArrayNode entries = (ArrayNode) index.path("manifests");
    for (JsonNode entry : entries) {
      ManifestDocument converted = convertManifest(Digest.parse(entry.path("digest").asText()));
      ObjectNode descriptor = (ObjectNode) entry;
      descriptor.put("mediaType", converted.mediaType());
      descriptor.put("digest", converted.digest().toString());
      descriptor.put("size", converted.size());
      System.out.printf(
          "%s %s -> %s%n",
          entry.path("annotations").path("org.opencontainers.image.ref.name").asText("(untagged)"),
          shortOf(entry.path("digest").asText()),
          converted.digest());
    }
    Files.write(output.resolve("index.json"), JSON.writeValueAsBytes(index));
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
                ManifestRewriter.rewriteIndex(source, children, "zstd"), MediaTypes.OCI_INDEX);
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
        ImageConverter.assemble(plan.get(), config, outcomes, "zstd", false);
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

  private void copyBlobs() throws IOException {
    Path blobs = in.resolve("blobs/sha256");
    try (Stream<Path> files = Files.list(blobs)) {
      for (Path file : files.toList()) {
        Path target = out.resolve("blobs/sha256").resolve(file.getFileName());
        if (!Files.exists(target)) {
          Files.copy(file, target);
        }
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
