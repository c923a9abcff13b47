package io.transship.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Arrays;

/**
 * A manifest exactly as the registry holds it: the bytes (never re-serialized, since clients hash
 * them), the media type it is served with, and the digest of the bytes.
 */
public record ManifestDocument(byte[] bytes, String mediaType, Digest digest) {

  /** Clients refuse manifests over 4 MiB (OCI distribution spec, "Pushing Manifests"). */
  public static final int MAX_BYTES = 4 * 1024 * 1024;

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  public ManifestDocument {
    bytes = bytes.clone();
  }

  /**
   * Builds a document from bytes, taking the media type from the JSON {@code mediaType} field when
   * present, else from {@code declaredType} (the upstream's {@code Content-Type}), else from the
   * shape of the JSON (umoci writes manifests without {@code mediaType}).
   */
  public static ManifestDocument of(byte[] bytes, String declaredType) {
    if (bytes.length > MAX_BYTES) {
      throw new RegistryException(
          ErrorCode.MANIFEST_INVALID, "manifest exceeds 4 MiB", bytes.length + " bytes");
    }
    return new ManifestDocument(bytes, mediaTypeOf(bytes, declaredType), Digest.sha256(bytes));
  }

  @Override
  public byte[] bytes() {
    return bytes.clone();
  }

  public int size() {
    return bytes.length;
  }

  /** Parses the bytes as a JSON tree (a copy: the document itself never changes). */
  public JsonNode json() {
    try {
      return JSON.readTree(bytes);
    } catch (IOException e) {
      throw new RegistryException(ErrorCode.MANIFEST_INVALID, "manifest is not JSON", null);
    }
  }

  static String mediaTypeOf(byte[] bytes, String declaredType) {
    JsonNode tree;
    try {
      tree = JSON.readTree(bytes);
    } catch (IOException e) {
      throw new RegistryException(ErrorCode.MANIFEST_INVALID, "manifest is not JSON", null);
    }
    if (tree == null || !tree.isObject()) {
      throw new RegistryException(ErrorCode.MANIFEST_INVALID, "manifest is not a JSON object");
    }
    JsonNode field = tree.get("mediaType");
    if (field != null && field.isTextual() && !field.asText().isEmpty()) {
      return field.asText();
    }
    if (declaredType != null && MediaTypes.isManifest(stripParameters(declaredType))) {
      return stripParameters(declaredType);
    }
    if (tree.path("schemaVersion").asInt() == 1) {
      return tree.has("signatures") ? MediaTypes.DOCKER_SCHEMA1_SIGNED : MediaTypes.DOCKER_SCHEMA1;
    }
    return tree.has("manifests") ? MediaTypes.OCI_INDEX : MediaTypes.OCI_MANIFEST;
  }

  private static String stripParameters(String contentType) {
    int semicolon = contentType.indexOf(';');
    return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ManifestDocument other
        && digest.equals(other.digest)
        && mediaType.equals(other.mediaType)
        && Arrays.equals(bytes, other.bytes);
  }

  @Override
  public int hashCode() {
    return digest.hashCode();
  }

  @Override
  public String toString() {
    return "ManifestDocument[" + mediaType + ", " + digest + ", " + bytes.length + " bytes]";
  }
}
