package io.transship.server.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.transship.oci.ErrorCode;
import io.transship.oci.RegistryException;
import io.transship.server.upstream.UpstreamAuth;
import io.transship.server.upstream.UpstreamResponse;
import java.io.IOException;
import java.util.Map;

/**
 * Maps what an upstream answered (or failed to) to the error transship gives its client: 404 keeps
 * the upstream's code, 401/403 become DENIED (the proxy's own credentials were refused), 429 keeps
 * {@code Retry-After}, 5xx and unreachable become UNAVAILABLE. Upstream internals never leak.
 */
public final class UpstreamErrors {
  private static final ObjectMapper JSON = new ObjectMapper();

  private UpstreamErrors() {}

  /** The error for a non-2xx upstream response; closes it. */
  public static RegistryException fromResponse(
      UpstreamResponse response, String alias, ErrorCode notFound) {
    int status = response.status();
    ErrorCode upstreamCode = upstreamCode(response);
    response.close();
    return switch (status) {
      case 404 ->
          new RegistryException(
              upstreamCode != null && upstreamCode.httpStatus() == 404 ? upstreamCode : notFound,
              null);
      case 401, 403 ->
          new RegistryException(
              ErrorCode.DENIED, "upstream " + alias + " denied access (" + status + ")");
      case 429 ->
          new RegistryException(
              ErrorCode.TOOMANYREQUESTS,
              "upstream " + alias + " is rate limiting",
              null,
              retryAfter(response),
              null);
      case 400 ->
          new RegistryException(
              upstreamCode != null ? upstreamCode : ErrorCode.UPSTREAM_ERROR,
              "upstream " + alias + " rejected the request");
      default ->
          status >= 500
              ? new RegistryException(
                  ErrorCode.UNAVAILABLE, "upstream " + alias + " failed (" + status + ")")
              : new RegistryException(
                  ErrorCode.UPSTREAM_ERROR, "upstream " + alias + " answered " + status);
    };
  }

  /** The error for an upstream that could not be reached or broke off. */
  public static RegistryException fromIo(IOException e, String alias) {
    if (e instanceof UpstreamAuth.UpstreamAuthException auth) {
      return new RegistryException(
          ErrorCode.DENIED,
          "upstream " + alias + " token service refused (" + auth.status() + ")",
          null,
          Map.of(),
          e);
    }
    String why =
        io.transship.server.upstream.RegistryClient.isUnknownHost(e)
            ? " unreachable: unknown host (DNS lookup failed)"
            : " unreachable";
    return new RegistryException(
        ErrorCode.UNAVAILABLE, "upstream " + alias + why, null, Map.of(), e);
  }

  /** Whether an error means "the upstream is down", so a cached copy may be served instead. */
  public static boolean isUnavailability(RegistryException e) {
    return e.code() == ErrorCode.UNAVAILABLE || e.code() == ErrorCode.TOOMANYREQUESTS;
  }

  private static Map<String, String> retryAfter(UpstreamResponse response) {
    String value = response.header("Retry-After");
    return value == null ? Map.of() : Map.of("Retry-After", value);
  }

  private static ErrorCode upstreamCode(UpstreamResponse response) {
    try {
      byte[] body = response.body().readNBytes(64 * 1024);
      JsonNode code = JSON.readTree(body).path("errors").path(0).path("code");
      return code.isTextual() ? ErrorCode.valueOf(code.asText()) : null;
    } catch (IOException | IllegalArgumentException e) {
      return null;
    }
  }
}
