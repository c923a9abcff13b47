package io.transship.converter;

import com.fasterxml.jackson.databind.JsonNode;
import io.transship.oci.Digest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Reads what the converter needs from an image configuration (OCI image spec v1.1, config.md). */
public final class ImageConfig {

  private ImageConfig() {}

  /**
   * The {@code rootfs.diff_ids} of an image config: the digests of the layers' uncompressed tars,
   * in layer order (OCI image spec v1.1, "Image Configuration", properties {@code rootfs} and
   * {@code diff_ids}; "Layer DiffID").
   *
   * @throws IOException if the config is not JSON, has no {@code rootfs.diff_ids} list, or a list
   *     entry is not a valid digest
   */
  public static List<Digest> diffIds(byte[] configJson) throws IOException {
    JsonNode config;
    try {
      config = Json.parse(configJson);
    } catch (IOException e) {
      throw new IOException("image config is not valid JSON: " + Json.describe(e), e);
    }
    JsonNode diffIds = config.path("rootfs").path("diff_ids");
    if (!diffIds.isArray()) {
      throw new IOException(
          "image config has no rootfs.diff_ids list"
              + (diffIds.isMissingNode() ? "" : " (found " + diffIds.getNodeType() + ")"));
    }
    List<Digest> result = new ArrayList<>(diffIds.size());
    for (int i = 0; i < diffIds.size(); i++) {
      JsonNode entry = diffIds.get(i);
      result.add(parseDigest(entry, i));
    }
    return List.copyOf(result);
  }

  private static Digest parseDigest(JsonNode entry, int index) throws IOException {
    if (!entry.isTextual()) {
      throw new IOException("image config rootfs.diff_ids[" + index + "] is not a string");
    }
    try {
      return Digest.parse(entry.textValue());
    } catch (RuntimeException e) {
      throw new IOException(
          "image config rootfs.diff_ids[" + index + "] is not a valid digest: " + entry.textValue(),
          e);
    }
  }
}
