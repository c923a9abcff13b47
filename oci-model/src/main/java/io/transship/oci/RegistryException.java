package io.transship.oci;

import java.util.Map;
import java.util.Objects;

/**
 * A failure that becomes an OCI error response: a code from {@link ErrorCode}, a message safe to
 * show to clients, an optional detail, and optional extra response headers (for example {@code
 * Retry-After} or {@code Content-Range}).
 */
public final class RegistryException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorCode code;
  private final String detail;
  private final transient Map<String, String> headers;

  public RegistryException(ErrorCode code, String message) {
    this(code, message, null, Map.of(), null);
  }

  public RegistryException(ErrorCode code, String message, String detail) {
    this(code, message, detail, Map.of(), null);
  }

  public RegistryException(
      ErrorCode code, String message, String detail, Map<String, String> headers, Throwable cause) {
    super(message == null ? code.defaultMessage() : message, cause);
    this.code = Objects.requireNonNull(code);
    this.detail = detail;
    this.headers = Map.copyOf(headers);
  }

  public ErrorCode code() {
    return code;
  }

  public String detail() {
    return detail;
  }

  public Map<String, String> headers() {
    return headers;
  }
}
