package io.transship.server.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.transship.oci.Digest;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * An in-process fake upstream registry for component tests: the pull side of the OCI distribution
 * spec v1.1, served on {@code 127.0.0.1} at a free port by the JDK's {@code com.sun.net.httpserver}
 * (never Netty), which records every request and injects faults.
 *
 * <p>It serves
 *
 * <ul>
 *   <li>{@code GET|HEAD /v2/} with {@code Docker-Distribution-API-Version: registry/2.0};
 *   <li>{@code GET|HEAD /v2/<name>/manifests/<tag|digest>} with {@code Content-Type}, {@code
 *       Docker-Content-Digest} and {@code Content-Length}, or 404 {@code MANIFEST_UNKNOWN};
 *   <li>{@code GET|HEAD /v2/<name>/blobs/<digest>} with {@code Content-Length} and {@code
 *       Docker-Content-Digest}, a single {@code Range: bytes=a-b} (also {@code a-} and {@code -n})
 *       answered 206 with {@code Content-Range}, an unsatisfiable one 416, or 404 {@code
 *       BLOB_UNKNOWN};
 *   <li>{@code GET /v2/<name>/tags/list} with {@code n}, {@code last} and a {@code Link} header
 *       when more tags follow, or 404 {@code NAME_UNKNOWN};
 *   <li>{@code GET /v2/<name>/referrers/<digest>}: an empty OCI image index, or 404 after {@link
 *       #setReferrersSupported setReferrersSupported(false)}.
 * </ul>
 *
 * <p>Names may contain slashes. Blobs are global (every repository name serves every blob);
 * manifests and tags belong to one repository. Errors carry an OCI error body {@code
 * {"errors":[{"code":..,"message":..}]}}. Every response carries {@code
 * Docker-Distribution-API-Version: registry/2.0}.
 *
 * <p>A request is handled in this order: it is recorded (see {@link #requests()}), then delayed
 * ({@link #delayMillis}), then failed ({@link #failWith}), then served by the token endpoint
 * ({@link #requireBearer}), then checked for credentials, then redirected ({@link
 * #redirectBlobsTo}) or served, where a body may be cut short ({@link #resetMidBody}) or corrupted
 * ({@link #corruptBody}). Each request runs on its own virtual thread, so a slow response blocks no
 * other; bodies are written straight from the stored content in chunks.
 *
 * <p>Thread-safe. Use with try-with-resources:
 *
 * <pre>{@code
 * try (FakeUpstream upstream = FakeUpstream.start()) {
 *   Digest blob = upstream.putBlob(bytes);
 *   upstream.failWith("/blobs/", 503, 1, Map.of());
 *   ... point the proxy at upstream.url() ...
 *   assertThat(upstream.count("GET", "/blobs/" + blob)).isEqualTo(2);
 * }
 * }</pre>
 */
public final class FakeUpstream implements AutoCloseable {

  /**
   * One request as the fake received it.
   *
   * @param method the HTTP method, e.g. {@code GET}
   * @param path the raw request path, e.g. {@code /v2/library/alpine/manifests/3.20}
   * @param query the raw query string without {@code ?}, or {@code ""} when there is none
   * @param headers the request headers; keys are case-insensitive, the map is unmodifiable
   */
  public record RecordedRequest(
      String method, String path, String query, Map<String, List<String>> headers) {

    /** Copies {@code headers} into an unmodifiable, case-insensitive map. */
    public RecordedRequest {
      Objects.requireNonNull(method, "method");
      Objects.requireNonNull(path, "path");
      query = query == null ? "" : query;
      TreeMap<String, List<String>> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
      if (headers != null) {
        headers.forEach((name, values) -> copy.put(name, List.copyOf(values)));
      }
      headers = Collections.unmodifiableMap(copy);
    }

    /** The first value of header {@code name} (case-insensitive), or null when absent. */
    public String header(String name) {
      List<String> values = headers.get(name);
      return values == null || values.isEmpty() ? null : values.getFirst();
    }
  }

  private static final String API_VERSION = "Docker-Distribution-API-Version";
  private static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
  private static final String EMPTY_INDEX =
      "{\"schemaVersion\":2,\"mediaType\":\"" + OCI_INDEX + "\",\"manifests\":[]}";
  private static final int CHUNK = 64 * 1024;
  private static final Duration REBIND_TIMEOUT = Duration.ofSeconds(10);

  private enum FaultKind {
    FAIL,
    RESET,
    CORRUPT,
    PAUSE,
    ENDLESS
  }

  private static final class Fault {
    final FaultKind kind;
    final String fragment;
    final int status;
    final Map<String, String> headers;
    int remaining;

    Fault(FaultKind kind, String fragment, int status, Map<String, String> headers, int times) {
      this.kind = kind;
      this.fragment = fragment;
      this.status = status;
      this.headers = headers;
      this.remaining = times;
    }
  }

  private record StoredManifest(byte[] bytes, String mediaType, Digest digest) {}

  private static final class Repo {
    final Map<String, StoredManifest> manifests = new HashMap<>();
    final TreeMap<String, Digest> tags = new TreeMap<>();
    List<String> tagListOverride;
  }

  private record Bearer(String realmPath, String service, String token, Duration expiresIn) {}

  private enum Kind {
    BASE,
    MANIFEST,
    BLOB,
    TAGS,
    REFERRERS,
    UNKNOWN
  }

  private record Route(Kind kind, String name, String reference) {}

  /** Thrown out of a handler so that the JDK server closes the connection mid-response. */
  private static final class AbortConnection extends IOException {
    private static final long serialVersionUID = 1L;

    AbortConnection() {
      super("fake upstream: connection closed mid-body on purpose");
    }
  }

  private final Object lock = new Object();
  private final java.util.concurrent.atomic.AtomicLong endlessBytes =
      new java.util.concurrent.atomic.AtomicLong();
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final InetAddress address;
  private final int port;

  // All below guarded by lock.
  private HttpServer server;
  private boolean closed;
  private final Map<String, byte[]> blobs = new HashMap<>();
  private boolean enforceMembership;
  private final Map<String, Repo> repos = new HashMap<>();
  private final List<RecordedRequest> requests = new ArrayList<>();
  private final List<Fault> faults = new ArrayList<>();
  private final Map<String, Long> delays = new LinkedHashMap<>();
  private final Map<String, Long> throttles = new LinkedHashMap<>();
  private int tokenRequests;
  private Bearer bearer;
  private String basicExpected;
  private FakeUpstream redirectTarget;
  private boolean referrersSupported = true;

  private FakeUpstream() throws IOException {
    this.address = InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
    this.server = bind(0);
    this.port = server.getAddress().getPort();
  }

  /**
   * Starts a fake on {@code 127.0.0.1} at a free port.
   *
   * @throws UncheckedIOException when no port can be bound
   */
  public static FakeUpstream start() {
    try {
      return new FakeUpstream();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Stops serving, closes open connections and interrupts requests still being handled. */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      if (server != null) {
        server.stop(0);
        server = null;
      }
    }
    executor.shutdownNow();
    try {
      executor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The base URL, {@code http://127.0.0.1:<port>}, without a trailing slash. */
  public String url() {
    return "http://" + hostPort();
  }

  /** {@code 127.0.0.1:<port>}; the port stays the same across {@link #setDown}. */
  public String hostPort() {
    return address.getHostAddress() + ":" + port;
  }

  // ---------------------------------------------------------------- content

  /** Stores {@code content} (copied) as a blob every repository serves; returns its digest. */
  public Digest putBlob(byte[] content) {
    byte[] copy = content.clone();
    Digest digest = Digest.sha256(copy);
    synchronized (lock) {
      blobs.put(digest.toString(), copy);
    }
    return digest;
  }

  /**
   * When on, a blob is served only for a repository holding a manifest that references it, as real
   * registries serve blobs only from repositories they were pushed to (or mounted into); off (the
   * default), every repository serves every blob. Manifests are always per repository.
   */
  public void enforceRepositoryMembership(boolean on) {
    synchronized (lock) {
      enforceMembership = on;
    }
  }

  /** Forgets a blob so that it answers 404 {@code BLOB_UNKNOWN}; no-op when absent. */
  public void removeBlob(Digest digest) {
    synchronized (lock) {
      blobs.remove(digest.toString());
    }
  }

  /**
   * Stores a manifest (copied) in {@code repo}, served by its digest and, when {@code tag} is not
   * null, also by {@code tag} (moving the tag if it pointed elsewhere).
   *
   * @param mediaType the {@code Content-Type} it is served with
   * @return the manifest's sha256 digest, its {@code Docker-Content-Digest}
   */
  public Digest putManifest(String repo, String tag, byte[] bytes, String mediaType) {
    Objects.requireNonNull(repo, "repo");
    Objects.requireNonNull(mediaType, "mediaType");
    byte[] copy = bytes.clone();
    Digest digest = Digest.sha256(copy);
    synchronized (lock) {
      Repo r = repos.computeIfAbsent(repo, k -> new Repo());
      r.manifests.put(digest.toString(), new StoredManifest(copy, mediaType, digest));
      if (tag != null) {
        r.tags.put(tag, digest);
      }
    }
    return digest;
  }

  /**
   * Points {@code tag} in {@code repo} at manifest {@code digest}, which must have been put in
   * {@code repo} or in any other repository (then it is copied into {@code repo}).
   *
   * @throws IllegalArgumentException when no repository holds a manifest with {@code digest}
   */
  public void putTag(String repo, String tag, Digest digest) {
    Objects.requireNonNull(tag, "tag");
    synchronized (lock) {
      StoredManifest found = null;
      Repo own = repos.get(repo);
      if (own != null) {
        found = own.manifests.get(digest.toString());
      }
      for (Iterator<Repo> it = repos.values().iterator(); found == null && it.hasNext(); ) {
        found = it.next().manifests.get(digest.toString());
      }
      if (found == null) {
        throw new IllegalArgumentException("no manifest " + digest + " was put");
      }
      Repo r = repos.computeIfAbsent(repo, k -> new Repo());
      r.manifests.put(digest.toString(), found);
      r.tags.put(tag, digest);
    }
  }

  /** Removes {@code tag} from {@code repo}; the manifest stays reachable by digest. */
  public void removeTag(String repo, String tag) {
    synchronized (lock) {
      Repo r = repos.get(repo);
      if (r != null) {
        r.tags.remove(tag);
      }
    }
  }

  /**
   * Makes {@code GET /v2/<repo>/tags/list} answer exactly {@code tags}, in this order, instead of
   * the sorted tags put so far; {@code null} goes back to those. Does not change what tags resolve
   * to.
   */
  public void setTags(String repo, List<String> tags) {
    synchronized (lock) {
      repos.computeIfAbsent(repo, k -> new Repo()).tagListOverride =
          tags == null ? null : List.copyOf(tags);
    }
  }

  /**
   * Whether {@code GET /v2/<name>/referrers/<digest>} answers 200 with an empty OCI image index
   * (the default) or 404, as a registry without the referrers API does.
   */
  public void setReferrersSupported(boolean supported) {
    synchronized (lock) {
      referrersSupported = supported;
    }
  }

  // ---------------------------------------------------------------- counting

  /**
   * How many recorded requests had {@code method} (case-insensitive; null for any) and a path
   * containing {@code pathFragment}, e.g. {@code count("GET", "/blobs/" + digest)}.
   */
  public int count(String method, String pathFragment) {
    synchronized (lock) {
      int n = 0;
      for (RecordedRequest r : requests) {
        if ((method == null || method.equalsIgnoreCase(r.method()))
            && r.path().contains(pathFragment)) {
          n++;
        }
      }
      return n;
    }
  }

  /** A snapshot of every request received since the start or {@link #resetCounts}, in order. */
  public List<RecordedRequest> requests() {
    synchronized (lock) {
      return List.copyOf(requests);
    }
  }

  /** How many requests reached the token endpoint set up by {@link #requireBearer}. */
  public int tokenRequests() {
    synchronized (lock) {
      return tokenRequests;
    }
  }

  /** Forgets recorded requests and the token request count; faults and content stay. */
  public void resetCounts() {
    synchronized (lock) {
      requests.clear();
      tokenRequests = 0;
    }
  }

  // ---------------------------------------------------------------- faults

  /**
   * Answers the next {@code times} requests whose path contains {@code pathFragment} with {@code
   * status}, the extra response {@code headers} (may be null; e.g. {@code Retry-After: 1} with 429)
   * and an OCI error body; later ones are served normally. Checked before authentication.
   */
  public void failWith(String pathFragment, int status, int times, Map<String, String> headers) {
    if (status < 200 || status > 599) {
      throw new IllegalArgumentException("status must be 200..599: " + status);
    }
    addFault(
        new Fault(
            FaultKind.FAIL,
            pathFragment,
            status,
            headers == null ? Map.of() : Map.copyOf(headers),
            positive(times)));
  }

  /**
   * For the next {@code times} non-empty bodies sent for paths containing {@code pathFragment}:
   * sends the headers with the full {@code Content-Length}, writes the first half of the body, then
   * closes the connection, so the client sees a premature end of the body (an {@link IOException}).
   * HEAD requests and bodiless responses don't use a time up.
   */
  public void resetMidBody(String pathFragment, int times) {
    addFault(new Fault(FaultKind.RESET, pathFragment, 0, Map.of(), positive(times)));
  }

  /**
   * For the next {@code times} non-empty bodies sent for paths containing {@code pathFragment}:
   * sends a body of the same length with every byte inverted, so digests no longer match.
   */
  public void corruptBody(String pathFragment, int times) {
    addFault(new Fault(FaultKind.CORRUPT, pathFragment, 0, Map.of(), positive(times)));
  }

  /**
   * For the next {@code times} non-empty bodies sent for paths containing {@code pathFragment}:
   * sends the first half, then pauses {@code millis} before the rest (a download in progress).
   */
  public void pauseMidBody(String pathFragment, int millis, int times) {
    addFault(new Fault(FaultKind.PAUSE, pathFragment, millis, Map.of(), positive(times)));
  }

  /**
   * For the next {@code times} non-empty bodies sent for paths containing {@code pathFragment}:
   * sends the body chunked (no {@code Content-Length}), then zeros after it until the client goes
   * away (at most 8 GiB), counting what it sent in {@link #endlessBytesSent()}.
   */
  public void endlessBody(String pathFragment, int times) {
    addFault(new Fault(FaultKind.ENDLESS, pathFragment, 0, Map.of(), positive(times)));
  }

  /** Body bytes sent by {@link #endlessBody} faults so far. */
  public long endlessBytesSent() {
    return endlessBytes.get();
  }

  /**
   * Sleeps {@code millis} before handling every request whose path contains {@code pathFragment}
   * (the longest matching delay applies), until cleared with {@code 0}.
   */
  public void delayMillis(String pathFragment, long millis) {
    Objects.requireNonNull(pathFragment, "pathFragment");
    synchronized (lock) {
      if (millis <= 0) {
        delays.remove(pathFragment);
      } else {
        delays.put(pathFragment, millis);
      }
    }
  }

  /**
   * Sleeps {@code millis} after every 64 KiB of body sent for paths containing {@code pathFragment}
   * (a slow upstream), until cleared with {@code 0}.
   */
  public void throttleBody(String pathFragment, long millis) {
    synchronized (lock) {
      if (millis <= 0) {
        throttles.remove(pathFragment);
      } else {
        throttles.put(pathFragment, millis);
      }
    }
  }

  /**
   * Removes every pending {@link #failWith}, {@link #resetMidBody}, {@link #corruptBody} and delay.
   */
  public void clearFaults() {
    synchronized (lock) {
      faults.clear();
      delays.clear();
    }
  }

  /**
   * {@code true} stops the server, closing open connections, so connections to the port are
   * refused; {@code false} serves again on the same port. Content, counts and faults survive.
   *
   * @throws UncheckedIOException when the port cannot be bound again within 10 seconds
   */
  public void setDown(boolean down) {
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("closed");
      }
      if (down && server != null) {
        server.stop(0);
        server = null;
      } else if (!down && server == null) {
        server = rebind();
      }
    }
  }

  /** Whether {@link #setDown setDown(true)} is in effect. */
  public boolean isDown() {
    synchronized (lock) {
      return server == null;
    }
  }

  /**
   * Requires {@code Authorization: Bearer <token>} on every {@code /v2/} request, as Docker Hub
   * does. Without it the answer is 401 with {@code WWW-Authenticate: Bearer
   * realm="<url><realmPath>",service="<service>",scope="repository:<name>:pull"} (no scope for
   * {@code /v2/} itself). The fake serves {@code GET <realmPath>} (e.g. {@code /token}) itself,
   * answering {@code {"token":..,"access_token":..,"expires_in":..,"issued_at":..}} and counting it
   * in {@link #tokenRequests()}; when {@link #requireBasic} is also set, the token endpoint is what
   * requires basic credentials. The token never expires here; call again with another token to
   * rotate it.
   *
   * @param expiresIn advertised as {@code expires_in} in whole seconds; null omits the field
   */
  public void requireBearer(String realmPath, String service, String token, Duration expiresIn) {
    if (realmPath == null || !realmPath.startsWith("/") || realmPath.startsWith("/v2/")) {
      throw new IllegalArgumentException("realmPath must start with / and not be under /v2/");
    }
    Bearer b =
        new Bearer(
            realmPath,
            Objects.requireNonNull(service, "service"),
            Objects.requireNonNull(token, "token"),
            expiresIn);
    synchronized (lock) {
      bearer = b;
    }
  }

  /**
   * Requires HTTP basic credentials: on every {@code /v2/} request, or, when {@link #requireBearer}
   * is set, on the token endpoint. Without them the answer is 401 with {@code WWW-Authenticate:
   * Basic realm="fake"}.
   */
  public void requireBasic(String user, String password) {
    String encoded =
        Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    synchronized (lock) {
      basicExpected = "Basic " + encoded;
    }
  }

  /** Drops the requirements of {@link #requireBearer} and {@link #requireBasic}. */
  public void clearAuth() {
    synchronized (lock) {
      bearer = null;
      basicExpected = null;
    }
  }

  /**
   * Answers blob GETs (after authentication) with 307 and {@code Location: <other.url()><same path
   * and query>}, as registries redirecting to object storage do; {@code other} records the headers
   * it then receives, e.g. to prove no {@code Authorization} crossed hosts. HEAD is still served
   * here. {@code null} stops redirecting.
   */
  public void redirectBlobsTo(FakeUpstream other) {
    synchronized (lock) {
      redirectTarget = other;
    }
  }

  // ---------------------------------------------------------------- server

  private HttpServer bind(int bindPort) throws IOException {
    // Server socket channels set SO_REUSEADDR on Linux and macOS, so the same port can be bound
    // again right after stop() even with connections in TIME_WAIT.
    HttpServer s = HttpServer.create(new InetSocketAddress(address, bindPort), 128);
    s.createContext("/", this::handle);
    s.setExecutor(executor);
    s.start();
    return s;
  }

  private HttpServer rebind() {
    long deadline = System.nanoTime() + REBIND_TIMEOUT.toNanos();
    while (true) {
      try {
        return bind(port);
      } catch (BindException e) {
        if (System.nanoTime() > deadline) {
          throw new UncheckedIOException("port " + port + " could not be bound again", e);
        }
        try {
          Thread.sleep(50);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new UncheckedIOException(e);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    String method = ex.getRequestMethod();
    String path = ex.getRequestURI().getRawPath();
    String query = ex.getRequestURI().getRawQuery();
    ex.getResponseHeaders().set(API_VERSION, "registry/2.0");
    long delay;
    synchronized (lock) {
      requests.add(new RecordedRequest(method, path, query, ex.getRequestHeaders()));
      delay = 0;
      for (Map.Entry<String, Long> e : delays.entrySet()) {
        if (path.contains(e.getKey())) {
          delay = Math.max(delay, e.getValue());
        }
      }
    }
    try {
      if (delay > 0) {
        try {
          Thread.sleep(delay);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AbortConnection();
        }
      }
      serve(ex, method, path, query == null ? "" : query);
    } catch (RuntimeException e) {
      // A bug in the fake: make it visible to the test rather than a silently dropped connection.
      if (ex.getResponseCode() == -1) {
        sendError(ex, 500, "UNKNOWN", "fake upstream failed: " + e);
      } else {
        throw e;
      }
    }
  }

  private void serve(HttpExchange ex, String method, String path, String query) throws IOException {
    Fault fail = takeFault(FaultKind.FAIL, path);
    if (fail != null) {
      fail.headers.forEach((k, v) -> ex.getResponseHeaders().set(k, v));
      sendError(ex, fail.status, codeFor(fail.status), "injected failure");
      return;
    }
    Bearer b;
    String basic;
    FakeUpstream redirect;
    synchronized (lock) {
      b = bearer;
      basic = basicExpected;
      redirect = redirectTarget;
    }
    String authorization = ex.getRequestHeaders().getFirst("Authorization");
    if (b != null && path.equals(b.realmPath())) {
      serveToken(ex, b, basic, authorization);
      return;
    }
    Route route = route(path);
    if (route.kind() == Kind.UNKNOWN) {
      sendError(ex, 404, "NOT_FOUND", "no such endpoint: " + path);
      return;
    }
    if (b != null && !("Bearer " + b.token()).equals(authorization)) {
      String challenge =
          "Bearer realm=\""
              + url()
              + b.realmPath()
              + "\",service=\""
              + b.service()
              + "\""
              + (route.name() == null ? "" : ",scope=\"repository:" + route.name() + ":pull\"");
      ex.getResponseHeaders().set("WWW-Authenticate", challenge);
      sendError(ex, 401, "UNAUTHORIZED", "authentication required");
      return;
    }
    if (b == null && basic != null && !basic.equals(authorization)) {
      ex.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"fake\"");
      sendError(ex, 401, "UNAUTHORIZED", "authentication required");
      return;
    }
    boolean head = method.equals("HEAD");
    if (!head && !method.equals("GET")) {
      sendError(ex, 405, "UNSUPPORTED", "the fake upstream only serves GET and HEAD");
      return;
    }
    switch (route.kind()) {
      case BASE -> {
        if (head) {
          sendHead(ex, "application/json", 2);
        } else {
          sendBody(ex, path, 200, "application/json", utf8("{}"));
        }
      }
      case MANIFEST -> serveManifest(ex, path, route, head);
      case BLOB -> {
        if (!head && redirect != null) {
          ex.getResponseHeaders()
              .set("Location", redirect.url() + path + (query.isEmpty() ? "" : "?" + query));
          ex.sendResponseHeaders(307, -1);
          ex.close();
        } else {
          serveBlob(ex, path, route, head);
        }
      }
      case TAGS -> serveTags(ex, path, route, query);
      case REFERRERS -> {
        boolean supported;
        synchronized (lock) {
          supported = referrersSupported;
        }
        if (supported) {
          sendBody(ex, path, 200, OCI_INDEX, utf8(EMPTY_INDEX));
        } else {
          sendError(ex, 404, "NAME_UNKNOWN", "the referrers API is not supported");
        }
      }
      default -> throw new IllegalStateException(route.kind().toString());
    }
  }

  private static Route route(String path) {
    if (path.equals("/v2/") || path.equals("/v2")) {
      return new Route(Kind.BASE, null, null);
    }
    if (!path.startsWith("/v2/")) {
      return new Route(Kind.UNKNOWN, null, null);
    }
    String rest = path.substring(4);
    if (rest.endsWith("/tags/list")) {
      String name = rest.substring(0, rest.length() - "/tags/list".length());
      return name.isEmpty()
          ? new Route(Kind.UNKNOWN, null, null)
          : new Route(Kind.TAGS, name, null);
    }
    Kind kind = Kind.UNKNOWN;
    int at = -1;
    String marker = null;
    for (Kind k : List.of(Kind.MANIFEST, Kind.BLOB, Kind.REFERRERS)) {
      String m =
          switch (k) {
            case MANIFEST -> "/manifests/";
            case BLOB -> "/blobs/";
            default -> "/referrers/";
          };
      int i = rest.lastIndexOf(m);
      if (i > at) {
        at = i;
        kind = k;
        marker = m;
      }
    }
    if (at <= 0) {
      return new Route(Kind.UNKNOWN, null, null);
    }
    String reference = rest.substring(at + marker.length());
    if (reference.isEmpty() || reference.contains("/")) {
      return new Route(Kind.UNKNOWN, null, null);
    }
    return new Route(kind, rest.substring(0, at), reference);
  }

  private void serveToken(HttpExchange ex, Bearer b, String basic, String authorization)
      throws IOException {
    synchronized (lock) {
      tokenRequests++;
    }
    if (basic != null && !basic.equals(authorization)) {
      ex.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"fake\"");
      sendError(ex, 401, "UNAUTHORIZED", "token endpoint requires credentials");
      return;
    }
    StringBuilder json = new StringBuilder("{\"token\":").append(quote(b.token()));
    json.append(",\"access_token\":").append(quote(b.token()));
    if (b.expiresIn() != null) {
      json.append(",\"expires_in\":").append(b.expiresIn().toSeconds());
    }
    json.append(",\"issued_at\":").append(quote(Instant.now().toString())).append('}');
    sendBody(ex, ex.getRequestURI().getRawPath(), 200, "application/json", utf8(json.toString()));
  }

  private void serveManifest(HttpExchange ex, String path, Route route, boolean head)
      throws IOException {
    StoredManifest m;
    synchronized (lock) {
      Repo r = repos.get(route.name());
      m = null;
      if (r != null) {
        if (Digest.looksLikeDigest(route.reference())) {
          m = r.manifests.get(route.reference());
        } else {
          Digest d = r.tags.get(route.reference());
          m = d == null ? null : r.manifests.get(d.toString());
        }
      }
    }
    if (m == null) {
      sendError(ex, 404, "MANIFEST_UNKNOWN", "manifest unknown to registry");
      return;
    }
    ex.getResponseHeaders().set("Docker-Content-Digest", m.digest().toString());
    if (head) {
      sendHead(ex, m.mediaType(), m.bytes().length);
    } else {
      sendBody(ex, path, 200, m.mediaType(), m.bytes());
    }
  }

  /** Whether a manifest of {@code repo} names {@code digest}; call holding {@code lock}. */
  private boolean references(String repo, String digest) {
    Repo r = repos.get(repo);
    if (r == null) {
      return false;
    }
    String quoted = "\"" + digest + "\"";
    for (StoredManifest m : r.manifests.values()) {
      if (new String(m.bytes(), java.nio.charset.StandardCharsets.UTF_8).contains(quoted)) {
        return true;
      }
    }
    return false;
  }

  private void serveBlob(HttpExchange ex, String path, Route route, boolean head)
      throws IOException {
    byte[] content;
    synchronized (lock) {
      content = blobs.get(route.reference());
      if (content != null && enforceMembership && !references(route.name(), route.reference())) {
        content = null;
      }
    }
    if (content == null) {
      sendError(ex, 404, "BLOB_UNKNOWN", "blob unknown to registry");
      return;
    }
    ex.getResponseHeaders().set("Docker-Content-Digest", route.reference());
    ex.getResponseHeaders().set("Accept-Ranges", "bytes");
    String type = "application/octet-stream";
    if (head) {
      sendHead(ex, type, content.length);
      return;
    }
    long[] range = parseRange(ex.getRequestHeaders().getFirst("Range"), content.length);
    if (range == null) {
      sendBody(ex, path, 200, type, content, 0, content.length);
    } else if (range.length == 0) {
      ex.getResponseHeaders().set("Content-Range", "bytes */" + content.length);
      sendError(ex, 416, "RANGE_INVALID", "requested range not satisfiable");
    } else {
      int start = (int) range[0];
      int end = (int) range[1];
      ex.getResponseHeaders()
          .set("Content-Range", "bytes " + start + "-" + end + "/" + content.length);
      sendBody(ex, path, 206, type, content, start, end - start + 1);
    }
  }

  /**
   * Null to serve the whole content (no header, or one that is malformed or asks for several
   * ranges, which RFC 9110 lets a server ignore), an empty array when unsatisfiable, else {@code
   * {first, last}} inclusive.
   */
  private static long[] parseRange(String header, long length) {
    if (header == null || !header.startsWith("bytes=") || header.contains(",")) {
      return null;
    }
    String spec = header.substring("bytes=".length()).trim();
    int dash = spec.indexOf('-');
    if (dash < 0) {
      return null;
    }
    try {
      String a = spec.substring(0, dash).trim();
      String b = spec.substring(dash + 1).trim();
      if (a.isEmpty()) {
        if (b.isEmpty()) {
          return null;
        }
        long suffix = Long.parseLong(b);
        if (suffix <= 0 || length == 0) {
          return new long[0];
        }
        return new long[] {Math.max(0, length - suffix), length - 1};
      }
      long first = Long.parseLong(a);
      long last = b.isEmpty() ? Long.MAX_VALUE : Long.parseLong(b);
      if (first < 0 || last < first) {
        return null;
      }
      if (first >= length) {
        return new long[0];
      }
      return new long[] {first, Math.min(last, length - 1)};
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private void serveTags(HttpExchange ex, String path, Route route, String query)
      throws IOException {
    List<String> all;
    synchronized (lock) {
      Repo r = repos.get(route.name());
      if (r == null || (r.tagListOverride == null && r.tags.isEmpty() && r.manifests.isEmpty())) {
        all = null;
      } else {
        all = r.tagListOverride != null ? r.tagListOverride : List.copyOf(r.tags.keySet());
      }
    }
    if (all == null) {
      sendError(ex, 404, "NAME_UNKNOWN", "repository name not known to registry");
      return;
    }
    Map<String, String> params = parseQuery(query);
    int from = 0;
    String last = params.get("last");
    if (last != null) {
      int i = all.indexOf(last);
      if (i >= 0) {
        from = i + 1;
      } else {
        while (from < all.size() && all.get(from).compareTo(last) <= 0) {
          from++;
        }
      }
    }
    int to = all.size();
    Integer n = null;
    if (params.containsKey("n")) {
      try {
        n = Integer.parseInt(params.get("n"));
      } catch (NumberFormatException e) {
        sendError(ex, 400, "PAGINATION_NUMBER_INVALID", "invalid number of results requested");
        return;
      }
      if (n < 0) {
        sendError(ex, 400, "PAGINATION_NUMBER_INVALID", "invalid number of results requested");
        return;
      }
      to = (int) Math.min(to, (long) from + n);
    }
    List<String> page = all.subList(from, to);
    if (n != null && to < all.size() && !page.isEmpty()) {
      ex.getResponseHeaders()
          .set(
              "Link",
              "</v2/"
                  + route.name()
                  + "/tags/list?n="
                  + n
                  + "&last="
                  + URLEncoder.encode(page.getLast(), StandardCharsets.UTF_8)
                  + ">; rel=\"next\"");
    }
    StringBuilder json = new StringBuilder("{\"name\":").append(quote(route.name()));
    json.append(",\"tags\":[");
    for (int i = 0; i < page.size(); i++) {
      json.append(i == 0 ? "" : ",").append(quote(page.get(i)));
    }
    json.append("]}");
    sendBody(ex, path, 200, "application/json", utf8(json.toString()));
  }

  private static Map<String, String> parseQuery(String query) {
    Map<String, String> params = new HashMap<>();
    if (query.isEmpty()) {
      return params;
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : pair.substring(eq + 1);
      params.putIfAbsent(
          URLDecoder.decode(key, StandardCharsets.UTF_8),
          URLDecoder.decode(value, StandardCharsets.UTF_8));
    }
    return params;
  }

  // ---------------------------------------------------------------- responses

  private static void sendHead(HttpExchange ex, String contentType, long length)
      throws IOException {
    ex.getResponseHeaders().set("Content-Type", contentType);
    // The JDK server leaves Content-Length to the handler on HEAD; -1 means "no body follows".
    ex.getResponseHeaders().set("Content-Length", Long.toString(length));
    ex.sendResponseHeaders(200, -1);
    ex.close();
  }

  private void sendBody(HttpExchange ex, String path, int status, String type, byte[] body)
      throws IOException {
    sendBody(ex, path, status, type, body, 0, body.length);
  }

  private void sendBody(
      HttpExchange ex, String path, int status, String type, byte[] content, int off, int len)
      throws IOException {
    ex.getResponseHeaders().set("Content-Type", type);
    if (len == 0) {
      ex.sendResponseHeaders(status, -1); // Content-Length: 0; passing 0 would mean chunked
      ex.close();
      return;
    }
    Fault reset = takeFault(FaultKind.RESET, path);
    Fault corrupt = reset == null ? takeFault(FaultKind.CORRUPT, path) : null;
    Fault halfway = reset == null && corrupt == null ? takeFault(FaultKind.PAUSE, path) : null;
    if (reset == null && corrupt == null && takeFault(FaultKind.ENDLESS, path) != null) {
      sendEndless(ex, status, content, off, len);
      return;
    }
    ex.sendResponseHeaders(status, len);
    OutputStream out = ex.getResponseBody();
    if (halfway != null) {
      write(out, content, off, len / 2, false);
      out.flush();
      try {
        Thread.sleep(halfway.status); // the pause in milliseconds
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      write(out, content, off + len / 2, len - len / 2, false);
      out.close();
      return;
    }
    if (reset != null) {
      write(out, content, off, len / 2, false);
      out.flush();
      // Throwing before the body is complete makes the JDK server close the connection.
      throw new AbortConnection();
    }
    long pause = 0;
    synchronized (lock) {
      for (Map.Entry<String, Long> t : throttles.entrySet()) {
        if (path.contains(t.getKey())) {
          pause = Math.max(pause, t.getValue());
        }
      }
    }
    if (pause > 0) {
      for (int done = 0; done < len; ) {
        int n = Math.min(CHUNK, len - done);
        write(out, content, off + done, n, corrupt != null);
        out.flush();
        done += n;
        try {
          Thread.sleep(pause);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AbortConnection();
        }
      }
      out.close();
      return;
    }
    write(out, content, off, len, corrupt != null);
    out.close();
  }

  private void sendEndless(HttpExchange ex, int status, byte[] content, int off, int len)
      throws IOException {
    ex.sendResponseHeaders(status, 0); // 0: chunked
    OutputStream out = ex.getResponseBody();
    try {
      out.write(content, off, len);
      endlessBytes.addAndGet(len);
      byte[] zeros = new byte[CHUNK];
      for (long sent = len; sent < (8L << 30); sent += zeros.length) {
        out.write(zeros);
        endlessBytes.addAndGet(zeros.length);
      }
      out.close();
    } catch (IOException e) {
      throw new AbortConnection(); // the client went away: what this fault waits for
    }
  }

  private static void write(OutputStream out, byte[] content, int off, int len, boolean invert)
      throws IOException {
    byte[] buffer = invert ? new byte[Math.min(CHUNK, Math.max(len, 1))] : null;
    for (int done = 0; done < len; ) {
      int n = Math.min(CHUNK, len - done);
      if (invert) {
        for (int i = 0; i < n; i++) {
          buffer[i] = (byte) ~content[off + done + i];
        }
        out.write(buffer, 0, n);
      } else {
        out.write(content, off + done, n);
      }
      done += n;
    }
  }

  private static void sendError(HttpExchange ex, int status, String code, String message)
      throws IOException {
    if (ex.getRequestMethod().equals("HEAD") || status == 204 || status == 304) {
      ex.sendResponseHeaders(status, -1);
      ex.close();
      return;
    }
    byte[] body =
        utf8(
            "{\"errors\":[{\"code\":"
                + quote(code)
                + ",\"message\":"
                + quote(message)
                + ",\"detail\":null}]}");
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, body.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(body);
    }
  }

  private static String codeFor(int status) {
    return switch (status) {
      case 401 -> "UNAUTHORIZED";
      case 403 -> "DENIED";
      case 404 -> "NAME_UNKNOWN";
      case 405 -> "UNSUPPORTED";
      case 416 -> "RANGE_INVALID";
      case 429 -> "TOOMANYREQUESTS";
      case 503 -> "UNAVAILABLE";
      default -> "UNKNOWN";
    };
  }

  // ---------------------------------------------------------------- helpers

  private void addFault(Fault fault) {
    Objects.requireNonNull(fault.fragment, "pathFragment");
    synchronized (lock) {
      faults.add(fault);
    }
  }

  /** Uses up one time of the first pending fault of {@code kind} matching {@code path}. */
  private Fault takeFault(FaultKind kind, String path) {
    synchronized (lock) {
      for (Iterator<Fault> it = faults.iterator(); it.hasNext(); ) {
        Fault f = it.next();
        if (f.kind == kind && path.contains(f.fragment)) {
          if (--f.remaining <= 0) {
            it.remove();
          }
          return f;
        }
      }
      return null;
    }
  }

  private static int positive(int times) {
    if (times < 1) {
      throw new IllegalArgumentException("times must be at least 1: " + times);
    }
    return times;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String quote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
