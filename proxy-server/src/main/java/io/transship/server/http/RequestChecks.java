package io.transship.server.http;

import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.transship.oci.ErrorCode;
import io.transship.oci.RegistryException;
import java.util.Optional;

/**
 * What is wrong with a request at the HTTP level, before any routing: the codec could not parse it
 * (too long a request line: 414; too large a header section: 431, RFC 6585 section 5; anything
 * else: 400), a version other than HTTP/1.x (505, RFC 9110 section 15.6.6), or an HTTP/1.1 request
 * without exactly one {@code Host} field (400, RFC 9112 section 3.2). Such requests are answered
 * and their connection closed.
 */
final class RequestChecks {
  private RequestChecks() {}

  /** The error to answer {@code request} with, or empty when it may be served. */
  static Optional<RegistryException> problem(HttpRequest request) {
    DecoderResult result = request.decoderResult();
    if (result.isFailure()) {
      Throwable cause = result.cause();
      if (cause instanceof TooLongHttpLineException) {
        return Optional.of(new RegistryException(ErrorCode.URI_TOO_LONG, "request line too long"));
      }
      if (cause instanceof TooLongHttpHeaderException) {
        return Optional.of(
            new RegistryException(ErrorCode.HEADERS_TOO_LARGE, "request header fields too large"));
      }
      return Optional.of(
          new RegistryException(
              ErrorCode.MALFORMED_REQUEST,
              "malformed HTTP request (TLS sent to a plain-HTTP port?)"));
    }
    HttpVersion version = request.protocolVersion();
    if (!"HTTP".equals(version.protocolName()) || version.majorVersion() != 1) {
      return Optional.of(
          new RegistryException(
              ErrorCode.HTTP_VERSION_NOT_SUPPORTED, version.text() + " is not supported"));
    }
    if (version.minorVersion() >= 1 && request.headers().getAll(HttpHeaderNames.HOST).size() != 1) {
      return Optional.of(
          new RegistryException(
              ErrorCode.MALFORMED_REQUEST,
              "an HTTP/1.1 request needs exactly one Host header (RFC 9112 section 3.2)"));
    }
    return Optional.empty();
  }

  /** The metric reason of a refused request, for the limits that are connection limits. */
  static Optional<String> limitReason(RegistryException problem) {
    return switch (problem.code()) {
      case URI_TOO_LONG -> Optional.of("request-line-too-long");
      case HEADERS_TOO_LARGE -> Optional.of("headers-too-large");
      default -> Optional.empty();
    };
  }
}
