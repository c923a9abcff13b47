package io.transship.server.routing;

import io.transship.oci.Digest;
import io.transship.oci.ErrorCode;
import io.transship.oci.Reference;
import io.transship.oci.RegistryException;
import io.transship.oci.RepositoryName;
import io.transship.server.config.Formats;
import io.transship.server.config.UpstreamConfig;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Parses request lines into {@link RegistryRequest}s and picks the upstream.
 *
 * <p>The upstream comes from, in order: containerd's {@code ?ns=<host>} (mirror mode), a leading
 * path segment naming a configured alias ({@code /v2/docker.io/library/alpine/...}), or the
 * configured default upstream (what Docker Engine {@code registry-mirrors} and podman mirrors
 * send). A host that is not configured is refused: transship is not an open proxy.
 */
public final class RequestRouter {
  private final Map<String, UpstreamConfig> upstreams;
  private final String defaultUpstream;

  public RequestRouter(Map<String, UpstreamConfig> upstreams, String defaultUpstream) {
    this.upstreams = Map.copyOf(upstreams);
    this.defaultUpstream = defaultUpstream == null ? "" : defaultUpstream;
  }

  /**
   * Routes one request.
   *
   * @param method the HTTP method
   * @param path the decoded request path
   * @param query decoded query parameters
   * @param header a lookup of request headers by name
   */
  public RegistryRequest route(
      String method,
      String path,
      Map<String, List<String>> query,
      java.util.function.Function<String, String> header) {
    boolean head = "HEAD".equals(method);
    if (!head && !"GET".equals(method)) {
      throw new RegistryException(
          ErrorCode.UNSUPPORTED, "transship is a pull-only proxy: " + method + " is not supported");
    }
    if (path.equals("/v2") || path.equals("/v2/")) {
      return new RegistryRequest.Base();
    }
    if (!path.startsWith("/v2/")) {
      throw new RegistryException(ErrorCode.NAME_UNKNOWN, "not a registry API path", path);
    }
    String rest = path.substring(4);
    int manifests = rest.lastIndexOf("/manifests/");
    int blobs = rest.lastIndexOf("/blobs/");
    int referrers = rest.lastIndexOf("/referrers/");
    if (rest.endsWith("/tags/list")) {
      Route route = routeFor(rest.substring(0, rest.length() - "/tags/list".length()), query);
      return new RegistryRequest.TagsList(route, parseN(first(query, "n")), first(query, "last"));
    }
    if (manifests > 0 && manifests > blobs && manifests > referrers) {
      Route route = routeFor(rest.substring(0, manifests), query);
      Reference reference = Reference.parse(rest.substring(manifests + "/manifests/".length()));
      return new RegistryRequest.Manifest(
          route,
          reference,
          head,
          new RegistryRequest.ClientInfo(header.apply("Accept"), header.apply("User-Agent")));
    }
    if (blobs > 0 && blobs > referrers) {
      Route route = routeFor(rest.substring(0, blobs), query);
      String digest = rest.substring(blobs + "/blobs/".length());
      if (digest.startsWith("uploads")) {
        throw new RegistryException(ErrorCode.UNSUPPORTED, "uploads are not supported");
      }
      return new RegistryRequest.Blob(route, Digest.parse(digest), head, header.apply("Range"));
    }
    if (referrers > 0) {
      Route route = routeFor(rest.substring(0, referrers), query);
      return new RegistryRequest.Referrers(
          route,
          Digest.parse(rest.substring(referrers + "/referrers/".length())),
          first(query, "artifactType"));
    }
    throw new RegistryException(ErrorCode.NAME_UNKNOWN, "unknown registry endpoint", path);
  }

  /**
   * Routes an image name as users write it ({@code docker.io/library/alpine}, {@code
   * zstd/lab/app}), for the admin endpoints and the CLI.
   */
  public Route routeImage(String name) {
    return routeFor(withoutRegistryHost(name), Map.of());
  }

  /**
   * An image name as the user pulls it. A first segment that is a host ({@code a.b}, {@code
   * host:port}, {@code localhost}) but not an alias is either a registry host of an upstream
   * ({@code index.docker.io/...} → {@code docker.io/...}) or the proxy's own address ({@code
   * 127.0.0.1:5000/lab/app} → {@code lab/app}), which is dropped.
   */
  String withoutRegistryHost(String name) {
    int slash = name.indexOf('/');
    if (slash <= 0) {
      return name;
    }
    String first = name.substring(0, slash);
    if (upstreams.containsKey(first) || Formats.ALL.contains(first)) {
      return name;
    }
    if (!first.contains(".") && !first.contains(":") && !first.equals("localhost")) {
      return name;
    }
    return byHost(first)
        .map(upstream -> upstream.alias() + name.substring(slash))
        .orElse(name.substring(slash + 1));
  }

  /**
   * Picks the format, upstream and repository for the {@code <name>} part of a path: an optional
   * leading format selector ({@code zstd/}, {@code none/}), then {@code ?ns=}, an alias prefix or
   * the default upstream.
   */
  Route routeFor(String fullName, Map<String, List<String>> query) {
    String selector = null;
    String name = fullName;
    int first = fullName.indexOf('/');
    if (first > 0 && Formats.ALL.contains(fullName.substring(0, first))) {
      selector = fullName.substring(0, first);
      name = fullName.substring(first + 1);
    }
    String ns = first(query, "ns");
    if (ns != null) {
      UpstreamConfig upstream =
          byHost(ns)
              .orElseThrow(() ->
                  new RegistryException(
                      ErrorCode.DENIED, "registry host '" + ns + "' is not configured", ns));
      return new Route(upstream, repository(upstream, name), fullName, selector);
    }
    int slash = name.indexOf('/');
    if (slash > 0) {
      UpstreamConfig byAlias = upstreams.get(name.substring(0, slash));
      if (byAlias != null) {
        return new Route(
            byAlias, repository(byAlias, name.substring(slash + 1)), fullName, selector);
      }
    }
    UpstreamConfig fallback = upstreams.get(defaultUpstream);
    if (fallback == null) {
      throw new RegistryException(
          ErrorCode.NAME_UNKNOWN,
          "no upstream: prefix the repository with one of " + upstreams.keySet(),
          name);
    }
    return new Route(fallback, repository(fallback, name), fullName, selector);
  }

  private Optional<UpstreamConfig> byHost(String host) {
    String wanted = host.toLowerCase(Locale.ROOT);
    return upstreams.values().stream()
        .filter(u -> u.hosts().stream().anyMatch(h -> h.equalsIgnoreCase(wanted)))
        .findFirst();
  }

  private static RepositoryName repository(UpstreamConfig upstream, String name) {
    if (upstream.libraryPrefix() && RepositoryName.isValid(name) && name.indexOf('/') < 0) {
      return new RepositoryName("library/" + name);
    }
    return new RepositoryName(name);
  }

  private static String first(Map<String, List<String>> query, String key) {
    List<String> values = query.get(key);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  private static Integer parseN(String n) {
    if (n == null) {
      return null;
    }
    try {
      int value = Integer.parseInt(n);
      if (value < 0) {
        throw new NumberFormatException();
      }
      return value;
    } catch (NumberFormatException e) {
      throw new RegistryException(
          ErrorCode.PAGINATION_NUMBER_INVALID, "n must be a non-negative integer", n);
    }
  }
}
