package io.transship.converter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.transship.oci.Digest;
import java.io.IOException;
import java.util.List;

/**
 * Rewrites an image config's {@code rootfs.diff_ids} (OCI image spec v1.1, "Image Configuration",
 * {@code rootfs}) for formats that change the uncompressed tar, such as eStargz. Edits the JSON
 * tree in place of the array only: history, config and every unknown field are kept, in their
 * order.
 */
public final class ConfigRewriter {
  private ConfigRewriter() {}

  /**
   * Returns the config with {@code diffIds} as its {@code rootfs.diff_ids}.
   *
   * @throws IOException when the config is not JSON or has no {@code rootfs.diff_ids} of that
   *     length
   */
  public static byte[] withDiffIds(byte[] configJson, List<Digest> diffIds) throws IOException {
    JsonNode tree = Json.parse(configJson);
    JsonNode rootfs = tree.path("rootfs");
    if (!(rootfs instanceof ObjectNode rootfsObject)
        || !(rootfs.get("diff_ids") instanceof ArrayNode existing)) {
      throw new IOException("image config has no rootfs.diff_ids");
    }
    if (existing.size() != diffIds.size()) {
      throw new IOException(
          "image config lists " + existing.size() + " diff_ids, expected " + diffIds.size());
    }
    ArrayNode replaced = rootfsObject.putArray("diff_ids");
    diffIds.forEach(d -> replaced.add(d.toString()));
    return Json.MAPPER.writeValueAsBytes(tree);
  }
}
