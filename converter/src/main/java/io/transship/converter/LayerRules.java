package io.transship.converter;

import com.fasterxml.jackson.databind.JsonNode;
import io.transship.converter.LayerTranscoder.SourceCompression;
import io.transship.oci.MediaTypes;
import java.util.Map;

/**
 * Which blobs the proxy converts and which it passes through untouched.
 *
 * <p>Only ordinary, registry-hosted gzip layers of container images are converted. Everything else
 * is served as the upstream has it: layers with {@code urls} (OCI image spec v1.1 "Descriptors":
 * the content may be fetched from those URLs instead; with the "non-distributable" layer types of
 * "Image Layer Filesystem Changeset" — Docker's "foreign" layers — whose uploading is restricted by
 * license, and which the proxy must not copy or re-encode), layers that are already lazily-pullable
 * (eStargz, zstd:chunked: re-compressing would destroy their TOC), manifests whose config is not an
 * image config (artifacts, Helm charts, signatures, SBOMs) and the attestation manifests that
 * BuildKit puts into indexes.
 */
public final class LayerRules {

  /**
   * Images with more layers are not converted (served as they are). Real images stay far below
   * (Docker refuses more than 125 layers); a 4 MiB manifest could list about 20,000, each a
   * download and a conversion that one request would start.
   */
  public static final int MAX_IMAGE_LAYERS = 256;

  /**
   * Indexes with more image children are not converted (served as they are). Real indexes list a
   * few platforms and their attestations; a 4 MiB index could list about 20,000 images, each an
   * upstream manifest request that one client request would start.
   */
  public static final int MAX_INDEX_CHILDREN = 128;

  /** eStargz layers carry their TOC digest in this descriptor annotation (stargz-snapshotter). */
  static final String ESTARGZ_TOC_ANNOTATION = "containerd.io/snapshot/stargz/toc.digest";

  /** Prefix of the descriptor annotations of zstd:chunked layers (containers/storage). */
  static final String ZSTD_CHUNKED_ANNOTATION_PREFIX = "io.github.containers.zstd-chunked.";

  /** Docker's "foreign" layer: hosted elsewhere, listed with {@code urls}. */
  static final String DOCKER_FOREIGN_LAYER_GZIP =
      "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

  /**
   * OCI's deprecated counterpart of Docker's foreign layer ("Image Layer Filesystem Changeset").
   */
  static final String OCI_NONDISTRIBUTABLE_LAYER_GZIP =
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";

  static final String OCI_NONDISTRIBUTABLE_LAYER_TAR =
      "application/vnd.oci.image.layer.nondistributable.v1.tar";

  /** BuildKit marks attestation manifests in an index with this annotation... */
  static final String REFERENCE_TYPE_ANNOTATION = "vnd.docker.reference.type";

  /** ...set to this value. */
  static final String ATTESTATION_MANIFEST = "attestation-manifest";

  private LayerRules() {}

  /**
   * Whether a layer descriptor of an image manifest should be converted.
   *
   * @param mediaType the descriptor's {@code mediaType}
   * @param hasUrls whether the descriptor has a non-empty {@code urls} list
   * @param annotations the descriptor's {@code annotations} (null means none)
   * @param includeUncompressed whether plain {@code application/vnd.oci.image.layer.v1.tar} layers
   *     are converted too
   * @return true for gzip layers (OCI or Docker media type) hosted by the registry and not already
   *     eStargz or zstd:chunked; for uncompressed tar layers likewise when {@code
   *     includeUncompressed}
   */
  public static boolean isConvertibleLayer(
      String mediaType,
      boolean hasUrls,
      Map<String, String> annotations,
      boolean includeUncompressed) {
    boolean candidate =
        MediaTypes.OCI_LAYER_GZIP.equals(mediaType)
            || MediaTypes.DOCKER_LAYER_GZIP.equals(mediaType)
            || (includeUncompressed && MediaTypes.OCI_LAYER_TAR.equals(mediaType));
    return candidate && !hasUrls && !isLazilyPullable(annotations);
  }

  /**
   * How a layer of {@code mediaType} is compressed.
   *
   * @throws IllegalArgumentException for a media type that is neither gzip nor plain tar
   */
  public static SourceCompression compressionOf(String mediaType) {
    if (MediaTypes.OCI_LAYER_GZIP.equals(mediaType)
        || MediaTypes.DOCKER_LAYER_GZIP.equals(mediaType)
        || DOCKER_FOREIGN_LAYER_GZIP.equals(mediaType)
        || OCI_NONDISTRIBUTABLE_LAYER_GZIP.equals(mediaType)) {
      return SourceCompression.GZIP;
    }
    if (MediaTypes.OCI_LAYER_TAR.equals(mediaType)
        || OCI_NONDISTRIBUTABLE_LAYER_TAR.equals(mediaType)) {
      return SourceCompression.NONE;
    }
    throw new IllegalArgumentException("not a gzip or plain tar layer: " + mediaType);
  }

  /**
   * Whether a manifest's {@code config.mediaType} says it is a container image (OCI image spec v1.1
   * "Image Configuration", or Docker's schema 2 config). Anything else — an artifact's config type,
   * Helm's, cosign's, the empty descriptor's {@code application/vnd.oci.empty.v1+json} — is not.
   */
  public static boolean isImageConfig(String configMediaType) {
    return MediaTypes.OCI_CONFIG.equals(configMediaType)
        || MediaTypes.DOCKER_CONFIG.equals(configMediaType);
  }

  /**
   * Whether a descriptor in an index's {@code manifests} points at a BuildKit attestation manifest
   * (provenance, SBOM): annotated {@code vnd.docker.reference.type: attestation-manifest}, or with
   * the {@code unknown/unknown} platform BuildKit gives them so that no runtime picks them.
   */
  public static boolean isAttestationChild(JsonNode indexChildDescriptor) {
    if (indexChildDescriptor == null) {
      return false;
    }
    JsonNode type = indexChildDescriptor.path("annotations").path(REFERENCE_TYPE_ANNOTATION);
    if (type.isTextual() && ATTESTATION_MANIFEST.equals(type.textValue())) {
      return true;
    }
    JsonNode platform = indexChildDescriptor.path("platform");
    return "unknown".equals(platform.path("os").textValue())
        && "unknown".equals(platform.path("architecture").textValue());
  }

  private static boolean isLazilyPullable(Map<String, String> annotations) {
    if (annotations == null || annotations.isEmpty()) {
      return false;
    }
    if (annotations.containsKey(ESTARGZ_TOC_ANNOTATION)) {
      return true;
    }
    return annotations.keySet().stream()
        .anyMatch(key -> key.startsWith(ZSTD_CHUNKED_ANNOTATION_PREFIX));
  }
}
