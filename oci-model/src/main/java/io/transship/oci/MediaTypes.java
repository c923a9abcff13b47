package io.transship.oci;

import java.util.Set;

/**
 * Media types of the OCI image spec v1.1 and Docker image manifest v2 schema 2, and the predicates
 * the proxy needs about them.
 */
public final class MediaTypes {
  public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
  public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
  public static final String OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
  public static final String OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
  public static final String OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
  public static final String DOCKER_MANIFEST =
      "application/vnd.docker.distribution.manifest.v2+json";
  public static final String DOCKER_MANIFEST_LIST =
      "application/vnd.docker.distribution.manifest.list.v2+json";
  public static final String DOCKER_SCHEMA1 =
      "application/vnd.docker.distribution.manifest.v1+json";
  public static final String DOCKER_SCHEMA1_SIGNED =
      "application/vnd.docker.distribution.manifest.v1+prettyjws";
  public static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
  public static final String DOCKER_LAYER_GZIP =
      "application/vnd.docker.image.rootfs.diff.tar.gzip";

  /**
   * Every manifest media type the proxy serves, for the {@code Accept} header it sends upstream.
   */
  public static final Set<String> MANIFEST_TYPES =
      Set.of(
          OCI_MANIFEST,
          OCI_INDEX,
          DOCKER_MANIFEST,
          DOCKER_MANIFEST_LIST,
          DOCKER_SCHEMA1,
          DOCKER_SCHEMA1_SIGNED);

  private MediaTypes() {}

  public static boolean isIndex(String mediaType) {
    return OCI_INDEX.equals(mediaType) || DOCKER_MANIFEST_LIST.equals(mediaType);
  }

  public static boolean isManifest(String mediaType) {
    return MANIFEST_TYPES.contains(mediaType);
  }

  /** The {@code Accept} header value listing every manifest type, OCI first. */
  public static String acceptAllManifests() {
    return String.join(
        ", ",
        OCI_INDEX,
        OCI_MANIFEST,
        DOCKER_MANIFEST_LIST,
        DOCKER_MANIFEST,
        DOCKER_SCHEMA1_SIGNED,
        DOCKER_SCHEMA1);
  }
}
