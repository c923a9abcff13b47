package io.transship.oci;

/**
 * The one table of registry error codes and the HTTP status each is answered with.
 *
 * <p>Codes come from the OCI distribution spec v1.1, section "Error Codes"; {@code UNAVAILABLE},
 * {@code TOOMANYREQUESTS}, {@code RANGE_INVALID}, {@code PAGINATION_NUMBER_INVALID} and {@code
 * UNKNOWN} are the extensions CNCF distribution's {@code errcode} package also uses, so clients
 * already know them.
 */
public enum ErrorCode {
  BLOB_UNKNOWN(404, "blob unknown to registry"),
  DIGEST_INVALID(400, "provided digest did not match uploaded content"),
  MANIFEST_BLOB_UNKNOWN(404, "manifest references a manifest or blob unknown to registry"),
  MANIFEST_INVALID(400, "manifest invalid"),
  MANIFEST_UNKNOWN(404, "manifest unknown to registry"),
  NAME_INVALID(400, "invalid repository name"),
  NAME_UNKNOWN(404, "repository name not known to registry"),
  SIZE_INVALID(400, "provided length did not match content length"),
  UNAUTHORIZED(401, "authentication required"),
  DENIED(403, "requested access to the resource is denied"),
  UNSUPPORTED(405, "the operation is unsupported"),
  PAGINATION_NUMBER_INVALID(400, "invalid number of results requested"),
  MALFORMED_REQUEST(400, "the request is not valid HTTP"),
  REQUEST_TIMEOUT(408, "the request headers did not arrive in time"),
  URI_TOO_LONG(414, "the request line is too long"),
  HEADERS_TOO_LARGE(431, "the request header fields are too large"),
  HTTP_VERSION_NOT_SUPPORTED(505, "only HTTP/1.x is served"),
  TOOMANYREQUESTS(429, "too many requests"),
  RANGE_INVALID(416, "requested range not satisfiable"),
  UNAVAILABLE(503, "service unavailable"),
  UPSTREAM_ERROR(502, "upstream registry answered with an error"),
  UNKNOWN(500, "unknown error");

  private final int httpStatus;
  private final String defaultMessage;

  ErrorCode(int httpStatus, String defaultMessage) {
    this.httpStatus = httpStatus;
    this.defaultMessage = defaultMessage;
  }

  public int httpStatus() {
    return httpStatus;
  }

  public String defaultMessage() {
    return defaultMessage;
  }

  /**
   * The code string written into the error body. {@code UPSTREAM_ERROR} shows as UNKNOWN, the
   * HTTP-level refusals ({@code MALFORMED_REQUEST}, 414, 431, 505) as UNSUPPORTED and {@code
   * REQUEST_TIMEOUT} as UNAVAILABLE: the spec has no code of their own.
   */
  public String wireCode() {
    return switch (this) {
      case UPSTREAM_ERROR -> "UNKNOWN";
      case MALFORMED_REQUEST, URI_TOO_LONG, HEADERS_TOO_LARGE, HTTP_VERSION_NOT_SUPPORTED ->
          "UNSUPPORTED";
      case REQUEST_TIMEOUT -> "UNAVAILABLE";
      default -> name();
    };
  }
}
