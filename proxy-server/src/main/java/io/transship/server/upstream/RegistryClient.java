package io.transship.server.upstream;

import io.transship.oci.Digest;
import io.transship.oci.MediaTypes;
import io.transship.oci.RepositoryName;
import io.transship.server.config.UpstreamConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client for one upstream registry: builds the distribution API requests, authenticates, follows
 * redirects (dropping {@code Authorization} when the host changes, as blob CDNs require), and
 * retries connection errors, 5xx and 429 with backoff. Only idempotent GET and HEAD are sent.
 */
public final class RegistryClient {
  private static final Logger LOG = LoggerFactory.getLogger(RegistryClient.class);
  private static final int MAX_REDIRECTS = 5;

  private final UpstreamConfig config;
  private final HttpClient http;
  private final UpstreamAuth auth;
  private final RetryPolicy retry;
  private final UpstreamObserver observer;
  private final Sleeper sleeper;

  /** Receives the outcome of every upstream exchange (for metrics). */
  public interface UpstreamObserver {
    void exchanged(String upstream, String operation, int status, Duration elapsed);
  }

  /** Waits between retries; tests replace it. */
  public interface Sleeper {
    void sleep(Duration duration) throws InterruptedException;
  }

  public RegistryClient(
      UpstreamConfig config,
      HttpClient http,
      UpstreamAuth auth,
      RetryPolicy retry,
      UpstreamObserver observer,
      Sleeper sleeper) {
    this.config = config;
    this.http = http;
    this.auth = auth;
    this.retry = retry;
    this.observer = observer;
    this.sleeper = sleeper;
  }

  public UpstreamConfig config() {
    return config;
  }

  /** {@code GET|HEAD /v2/<name>/manifests/<reference>} asking for every manifest type. */
  public UpstreamResponse manifest(RepositoryName repository, String reference, boolean head)
      throws IOException {
    return send(
        head ? "HEAD" : "GET",
        "/v2/" + repository + "/manifests/" + reference,
        Map.of("Accept", MediaTypes.acceptAllManifests()),
        scope(repository),
        head ? "manifest_head" : "manifest_get");
  }

  /** {@code GET|HEAD /v2/<name>/blobs/<digest>}, with an optional {@code Range} header value. */
  public UpstreamResponse blob(RepositoryName repository, Digest digest, boolean head, String range)
      throws IOException {
    Map<String, String> headers = new LinkedHashMap<>();
    if (range != null) {
      headers.put("Range", range);
    }
    return send(
        head ? "HEAD" : "GET",
        "/v2/" + repository + "/blobs/" + digest,
        headers,
        scope(repository),
        head ? "blob_head" : "blob_get");
  }

  /** {@code GET /v2/<name>/tags/list}. */
  public UpstreamResponse tags(RepositoryName repository, Integer n, String last)
      throws IOException {
    StringBuilder path = new StringBuilder("/v2/" + repository + "/tags/list");
    String separator = "?";
    if (n != null) {
      path.append(separator).append("n=").append(n);
      separator = "&";
    }
    if (last != null) {
      path.append(separator)
          .append("last=")
          .append(URLEncoder.encode(last, StandardCharsets.UTF_8));
    }
    return send("GET", path.toString(), Map.of(), scope(repository), "tags");
  }

  /** {@code GET /v2/<name>/referrers/<digest>}. */
  public UpstreamResponse referrers(RepositoryName repository, Digest digest, String artifactType)
      throws IOException {
    String path = "/v2/" + repository + "/referrers/" + digest;
    if (artifactType != null) {
      path += "?artifactType=" + URLEncoder.encode(artifactType, StandardCharsets.UTF_8);
    }
    return send("GET", path, Map.of(), scope(repository), "referrers");
  }

  private static String scope(RepositoryName repository) {
    return "repository:" + repository + ":pull";
  }

  /**
   * Sends one request with retries. Returns the final response, which may be an error status the
   * caller maps; throws {@link IOException} when the upstream could not be reached at all.
   */
  UpstreamResponse send(
      String method, String path, Map<String, String> headers, String scope, String operation)
      throws IOException {
    IOException lastError = null;
    for (int attempt = 1; attempt <= retry.maxAttempts(); attempt++) {
      long started = System.nanoTime();
      try {
        UpstreamResponse response = sendAuthenticated(method, path, headers, scope);
        observer.exchanged(
            config.alias(),
            operation,
            response.status(),
            Duration.ofNanos(System.nanoTime() - started));
        if (!RetryPolicy.retryableStatus(response.status()) || attempt == retry.maxAttempts()) {
          return response;
        }
        Duration wait = retry.delay(attempt, response.header("Retry-After"));
        response.close();
        LOG.info(
            "upstream {} answered {} to {} {}; retry {} in {} ms",
            config.alias(),
            response.status(),
            method,
            path,
            attempt,
            wait.toMillis());
        pause(wait);
      } catch (IOException e) {
        observer.exchanged(
            config.alias(), operation, 0, Duration.ofNanos(System.nanoTime() - started));
        if (e instanceof UpstreamAuth.UpstreamAuthException) {
          throw e;
        }
        lastError = e;
        if (attempt == retry.maxAttempts()) {
          break;
        }
        Duration wait = retry.delay(attempt, null);
        LOG.info(
            "upstream {} unreachable for {} {} ({}); retry {} in {} ms",
            config.alias(),
            method,
            path,
            describe(e),
            attempt,
            wait.toMillis());
        pause(wait);
      }
    }
    throw Objects.requireNonNull(lastError);
  }

  private void pause(Duration wait) throws IOException {
    try {
      sleeper.sleep(wait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting to retry", e);
    }
  }

  private UpstreamResponse sendAuthenticated(
      String method, String path, Map<String, String> headers, String scope) throws IOException {
    Optional<String> authorization = auth.authorization(scope);
    UpstreamResponse response = follow(method, resolve(path), headers, authorization);
    if (response.status() == 401) {
      String challenge = response.header("WWW-Authenticate");
      response.close();
      Optional<String> retryWith = auth.onChallenge(challenge, scope);
      if (retryWith.isEmpty()) {
        return follow(method, resolve(path), headers, Optional.empty());
      }
      return follow(method, resolve(path), headers, retryWith);
    }
    return response;
  }

  private URI resolve(String path) {
    return URI.create(config.url() + path);
  }

  private UpstreamResponse follow(
      String method, URI uri, Map<String, String> headers, Optional<String> authorization)
      throws IOException {
    URI current = uri;
    Optional<String> auth = authorization;
    for (int hop = 0; ; hop++) {
      UpstreamResponse response = exchange(method, current, headers, auth);
      String location = response.header("Location");
      if (!isRedirect(response.status()) || location == null || hop >= MAX_REDIRECTS) {
        return response;
      }
      response.close();
      URI next = current.resolve(location);
      if (!sameOrigin(current, next)) {
        auth = Optional.empty(); // never hand our upstream credentials to a CDN
      }
      current = next;
    }
  }

  private static boolean isRedirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
  }

  private static boolean sameOrigin(URI a, URI b) {
    return Objects.equals(a.getScheme(), b.getScheme())
        && Objects.equals(a.getHost(), b.getHost())
        && a.getPort() == b.getPort();
  }

  private UpstreamResponse exchange(
      String method, URI uri, Map<String, String> headers, Optional<String> authorization)
      throws IOException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri)
            .timeout(config.responseTimeout())
            .method(method, HttpRequest.BodyPublishers.noBody())
            .header("User-Agent", "transship/0.1");
    headers.forEach(request::header);
    authorization.ifPresent(value -> request.header("Authorization", value));
    try {
      HttpResponse<InputStream> response =
          http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
      return new UpstreamResponse(response.statusCode(), response.headers(), response.body());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  static String describe(IOException e) {
    if (isUnknownHost(e)) {
      return "unknown host (DNS lookup failed)";
    }
    String message = e.getMessage();
    return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  /**
   * Whether a failure is a DNS miss: the JDK client reports it as a {@code ConnectException}
   * without message whose cause is an {@code UnresolvedAddressException} (or an {@code
   * UnknownHostException}).
   */
  public static boolean isUnknownHost(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.nio.channels.UnresolvedAddressException
          || t instanceof java.net.UnknownHostException) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }
}
