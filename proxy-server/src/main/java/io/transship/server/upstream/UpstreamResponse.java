package io.transship.server.upstream;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpHeaders;
import java.util.OptionalLong;

/**
 * A response from an upstream registry whose body has not been read yet. Close it when done: that
 * returns the connection to the pool (or drops it when the body was not drained).
 */
public record UpstreamResponse(int status, HttpHeaders headers, InputStream body)
    implements AutoCloseable {

  public String header(String name) {
    return headers.firstValue(name).orElse(null);
  }

  public OptionalLong contentLength() {
    return headers.firstValueAsLong("Content-Length");
  }

  public boolean isSuccess() {
    return status >= 200 && status < 300;
  }

  /** Reads at most {@code limit} bytes of the body, for error details and small documents. */
  public byte[] readBody(int limit) throws IOException {
    byte[] bytes = body.readNBytes(limit + 1);
    if (bytes.length > limit) {
      throw new BodyTooLargeException(limit);
    }
    return bytes;
  }

  /** The body is longer than the caller's limit; nothing of it is returned. */
  public static final class BodyTooLargeException extends IOException {
    private static final long serialVersionUID = 1L;

    BodyTooLargeException(int limit) {
      super("upstream body exceeds " + limit + " bytes");
    }
  }

  @Override
  public void close() {
    try {
      body.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
