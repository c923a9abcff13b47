package io.transship.server.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.transship.converter.LayerReplacement;
import io.transship.converter.LayerRules;
import io.transship.oci.Digest;
import io.transship.oci.ErrorCode;
import io.transship.oci.ManifestDocument;
import io.transship.oci.MediaTypes;
import io.transship.oci.RegistryException;
import io.transship.server.config.Formats;
import io.transship.server.routing.ImageReference;
import io.transship.server.routing.RequestRouter;
import io.transship.server.routing.Route;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;

/**
 * The operator's use cases on the admin port: pre-warm (convert an image ahead of its first pull,
 * reporting progress) and resolve (which converted digest a reference has, without converting).
 * Both speak JSON; Netty-free.
 */
public final class AdminService {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final java.util.regex.Pattern PLATFORM =
      java.util.regex.Pattern.compile("[a-z0-9_.-]+/[a-z0-9_.-]+(/[a-z0-9_.-]+)?");

  private final RequestRouter router;
  private final RegistryService registry;

  public AdminService(RequestRouter router, RegistryService registry) {
    this.router = router;
    this.registry = registry;
  }

  /** {@code {"image", "format", "source", "converted", "state"}} for an image and format. */
  public String resolve(String image, String format) {
    Target target = target(image, format);
    ManifestDocument source = registry.resolveSource(target.route, target.image.reference());
    ObjectNode json = JSON.createObjectNode();
    json.put("image", image);
    json.put("format", target.format);
    json.put("source", source.digest().toString());
    if (Formats.NONE.equals(target.format)) {
      json.put("converted", source.digest().toString());
      json.put("state", "original");
      return json.toString();
    }
    var recorded = registry.conversions().recorded(target.route, source, target.format);
    if (recorded.isEmpty()) {
      json.putNull("converted");
      json.put("state", "not-converted");
    } else {
      json.put("converted", recorded.get().digest().toString());
      json.put(
          "state",
          recorded.get().digest().equals(source.digest()) ? "nothing-to-convert" : "converted");
    }
    return json.toString();
  }

  /**
   * Converts an image and reports progress as JSON lines to {@code progress}; the last line has
   * {@code "event":"done"} with the converted digest. {@code platforms} ({@code os/arch[/variant]})
   * limits which children of an index are converted now; empty = the whole image.
   */
  public void warm(String image, String format, List<String> platforms, Consumer<String> progress) {
    for (String platform : platforms) {
      if (!PLATFORM.matcher(platform).matches()) {
        throw new RegistryException(
            ErrorCode.MALFORMED_REQUEST,
            "invalid platform '" + platform + "': use os/arch[/variant], e.g. linux/amd64");
      }
    }
    Target target = target(image, format);
    if (Formats.NONE.equals(target.format)) {
      throw new RegistryException(ErrorCode.UNSUPPORTED, "format none needs no warming");
    }
    ManifestDocument source = registry.resolveSource(target.route, target.image.reference());
    if (!platforms.isEmpty() && MediaTypes.isIndex(source.mediaType())) {
      requirePlatforms(image, source, platforms);
    }
    ConversionListener listener = new ProgressLines(progress);
    ConversionService conversions = registry.conversions();
    List<CompletableFuture<ManifestDocument>> work = new ArrayList<>();
    if (!platforms.isEmpty() && MediaTypes.isIndex(source.mediaType())) {
      for (JsonNode child : source.json().path("manifests")) {
        if (matches(child.path("platform"), platforms) && !LayerRules.isAttestationChild(child)) {
          Digest digest = Digest.parse(child.path("digest").asText());
          ManifestDocument childDoc =
              registry.resolveSource(target.route, new io.transship.oci.Reference.ByDigest(digest));
          work.add(conversions.convert(target.route, childDoc, target.format, listener));
        }
      }
    } else {
      work.add(conversions.convert(target.route, source, target.format, listener));
    }
    List<String> converted = new ArrayList<>();
    for (CompletableFuture<ManifestDocument> future : work) {
      try {
        converted.add(future.join().digest().toString());
      } catch (CompletionException e) {
        throw new RegistryException(
            ErrorCode.UNKNOWN, "conversion failed: " + e.getCause().getMessage());
      }
    }
    ObjectNode done = JSON.createObjectNode();
    done.put("event", "done");
    done.put("image", image);
    done.put("source", source.digest().toString());
    if (work.size() == 1 && platforms.isEmpty()) {
      done.put("converted", converted.get(0));
    } else {
      done.putPOJO("convertedPlatforms", converted);
    }
    progress.accept(done.toString());
  }

  /** Every wanted platform must be in the index: an absent one is an error naming those present. */
  private static void requirePlatforms(
      String image, ManifestDocument index, List<String> platforms) {
    List<String> present = new ArrayList<>();
    for (JsonNode child : index.json().path("manifests")) {
      if (!LayerRules.isAttestationChild(child)) {
        JsonNode p = child.path("platform");
        String variant = p.path("variant").asText("");
        present.add(
            p.path("os").asText()
                + "/"
                + p.path("architecture").asText()
                + (variant.isEmpty() ? "" : "/" + variant));
      }
    }
    for (String wanted : platforms) {
      boolean found = false;
      for (JsonNode child : index.json().path("manifests")) {
        if (!LayerRules.isAttestationChild(child)
            && matches(child.path("platform"), List.of(wanted))) {
          found = true;
        }
      }
      if (!found) {
        throw new RegistryException(
            ErrorCode.MANIFEST_UNKNOWN,
            image + " has no platform " + wanted + "; it has " + String.join(", ", present));
      }
    }
  }

  private static boolean matches(JsonNode platform, List<String> wanted) {
    String os = platform.path("os").asText();
    String arch = platform.path("architecture").asText();
    String variant = platform.path("variant").asText("");
    for (String w : wanted) {
      String[] parts = w.split("/");
      if (parts.length >= 2
          && parts[0].equals(os)
          && parts[1].equals(arch)
          && (parts.length < 3 || parts[2].equals(variant))) {
        return true;
      }
    }
    return false;
  }

  private record Target(ImageReference image, Route route, String format) {}

  private Target target(String image, String format) {
    ImageReference parsed = ImageReference.parse(image);
    Route route = router.routeImage(parsed.name());
    String chosen = format == null || format.isBlank() ? route.format() : parseFormat(format);
    return new Target(parsed, route, chosen);
  }

  private static String parseFormat(String format) {
    try {
      return Formats.parse(format, "format");
    } catch (RuntimeException e) {
      throw new RegistryException(ErrorCode.UNSUPPORTED, e.getMessage());
    }
  }

  /** Conversion events as JSON lines. */
  private static final class ProgressLines implements ConversionListener {
    private final Consumer<String> out;

    ProgressLines(Consumer<String> out) {
      this.out = out;
    }

    private void emit(ObjectNode line) {
      synchronized (this) {
        out.accept(line.toString());
      }
    }

    @Override
    public void manifestStarted(Digest source, String mediaType) {
      emit(
          JSON.createObjectNode()
              .put("event", "manifest")
              .put("source", source.toString())
              .put("mediaType", mediaType));
    }

    @Override
    public void layerStarted(Digest source, long size) {
      emit(
          JSON.createObjectNode()
              .put("event", "layer-started")
              .put("layer", source.toString())
              .put("size", size));
    }

    @Override
    public void layerFinished(Digest source, LayerReplacement converted) {
      emit(
          JSON.createObjectNode()
              .put("event", "layer-done")
              .put("layer", source.toString())
              .put("converted", converted.digest().toString())
              .put("size", converted.size())
              .put("mediaType", converted.mediaType()));
    }

    @Override
    public void layerFailed(Digest source, String reason) {
      emit(
          JSON.createObjectNode()
              .put("event", "layer-failed")
              .put("layer", source.toString())
              .put("reason", reason));
    }

    @Override
    public void manifestFinished(Digest source, Digest converted) {
      emit(
          JSON.createObjectNode()
              .put("event", "manifest-done")
              .put("source", source.toString())
              .put("converted", converted.toString()));
    }
  }
}
