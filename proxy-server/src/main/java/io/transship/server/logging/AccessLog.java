package io.transship.server.logging;

import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The access log ({@code transship.access}): one event per client request, who asked what and how
 * it went. In text logs it is one line whose client-controlled values are escaped ({@link
 * LogText}); in JSON logs every field is also a key/value pair of the event.
 *
 * <pre>
 * 10.0.0.7 GET "/v2/docker.io/library/alpine/manifests/3.20" 200 1638B 3ms id=6f1c... route=manifest
 *   repo=docker.io/library/alpine cache=hit format=zstd upstream=- ua="containerd/1.7.2"
 * </pre>
 *
 * <p>{@code upstream} is the time of upstream exchanges made for this request on its own thread
 * (manifest fetches, tag revalidations, HEADs); a blob download is shared by every client asking
 * and runs on its own thread, so it is not attributed to one request ({@code -}).
 *
 * <pre>
 * </pre>
 */
public final class AccessLog {
  private static final Logger ACCESS = LoggerFactory.getLogger("transship.access");
  private static final Pattern SANE_ID = Pattern.compile("[A-Za-z0-9._:@/+=-]{1,128}");

  private AccessLog() {}

  /** One finished (or aborted) request. */
  public record Entry(
      String client,
      String method,
      String uri,
      int status,
      long bytes,
      long millis,
      String requestId,
      String route,
      String repository,
      String cache,
      String format,
      long upstreamMillis,
      String userAgent,
      String aborted) {}

  /**
   * The request id: the client's {@code X-Request-Id} when it is sane (1–128 of {@code
   * [A-Za-z0-9._:@/+=-]}), so a caller's trace id carries through; otherwise a new random one.
   */
  public static String requestId(String incoming) {
    if (incoming != null && SANE_ID.matcher(incoming).matches()) {
      return incoming;
    }
    String hex = Long.toHexString(ThreadLocalRandom.current().nextLong());
    return hex.length() == 16 ? hex : "0".repeat(16 - hex.length()) + hex;
  }

  public static void log(Entry e) {
    if (!ACCESS.isInfoEnabled()) {
      return;
    }
    String upstream = e.upstreamMillis() < 0 ? "-" : e.upstreamMillis() + "ms";
    StringBuilder line =
        new StringBuilder(200)
            .append(e.client())
            .append(' ')
            .append(LogText.escape(e.method()))
            .append(" \"")
            .append(LogText.escape(e.uri()))
            .append("\" ")
            .append(e.status())
            .append(' ')
            .append(e.bytes())
            .append("B ")
            .append(e.millis())
            .append("ms id=")
            .append(LogText.escape(e.requestId()))
            .append(" route=")
            .append(LogText.escape(e.route()))
            .append(" repo=")
            .append(LogText.escape(e.repository()))
            .append(" cache=")
            .append(e.cache())
            .append(" format=")
            .append(e.format())
            .append(" upstream=")
            .append(upstream)
            .append(" ua=\"")
            .append(LogText.escape(e.userAgent()))
            .append('"');
    if (e.aborted() != null) {
      line.append(" aborted=\"").append(LogText.escape(e.aborted())).append('"');
    }
    if (!LogFormat.isJson()) {
      ACCESS.info(line.toString()); // text: the line is the event; no key/value pairs to build
      return;
    }
    var event =
        ACCESS
            .atInfo()
            .addKeyValue("client", e.client())
            .addKeyValue("method", e.method())
            .addKeyValue("uri", e.uri())
            .addKeyValue("status", e.status())
            .addKeyValue("bytes", e.bytes())
            .addKeyValue("durationMs", e.millis())
            .addKeyValue("requestId", e.requestId())
            .addKeyValue("route", e.route())
            .addKeyValue("repository", e.repository())
            .addKeyValue("cache", e.cache())
            .addKeyValue("format", e.format())
            .addKeyValue("upstreamMs", e.upstreamMillis())
            .addKeyValue("userAgent", e.userAgent());
    if (e.aborted() != null) {
      event = event.addKeyValue("aborted", e.aborted());
    }
    event.log(line.toString());
  }
}
