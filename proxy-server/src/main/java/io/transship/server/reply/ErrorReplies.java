package io.transship.server.reply;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.transship.oci.ErrorCode;
import io.transship.oci.RegistryException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one renderer of error responses: {@code {"errors":[{"code","message","detail"}]}} as the OCI
 * distribution spec v1.1 section "Error Codes" defines, with the status from {@link ErrorCode}.
 */
public final class ErrorReplies {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ErrorReplies() {}

  public static Reply of(RegistryException e) {
    ObjectNode error = JSON.createObjectNode();
    error.put("code", e.code().wireCode());
    error.put("message", e.getMessage());
    if (e.detail() != null) {
      error.put("detail", e.detail());
    }
    ObjectNode root = JSON.createObjectNode();
    ArrayNode errors = root.putArray("errors");
    errors.add(error);
    byte[] body = root.toString().getBytes(StandardCharsets.UTF_8);
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", "application/json");
    headers.putAll(e.headers());
    return new Reply(e.code().httpStatus(), headers, new Body.Bytes(body));
  }

  /** A 500 that says nothing of the internals. */
  public static Reply internal() {
    return of(new RegistryException(ErrorCode.UNKNOWN, "internal error; see the proxy's log"));
  }
}
