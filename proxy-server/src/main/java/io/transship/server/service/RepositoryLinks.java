package io.transship.server.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.transship.oci.Digest;
import io.transship.oci.ErrorCode;
import io.transship.oci.ManifestDocument;
import io.transship.oci.RegistryException;
import io.transship.server.routing.Route;
import io.transship.server.upstream.RegistryClient;
import io.transship.server.upstream.UpstreamResponse;
import io.transship.storage.ObjectStore;
import io.transship.storage.SmallObjects;
import io.transship.storage.StorageKeys;
import java.io.IOException;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which repository is known to hold which digest, so that content cached by digest (shared by every
 * repository) is served through a repository only when it belongs there — as distribution's own
 * storage does with its per-repository {@code _layers} / {@code _manifests} links. Only active when
 * client access rules are configured: without them every client may pull everything anyway.
 *
 * <p>A link (route's upstream alias and repository, digest) is written when the content was fetched
 * from the upstream through that repository, when a manifest confirmed in it references the digest
 * (a registry accepts a manifest only once its blobs are in the repository: OCI distribution spec,
 * "Pushing Manifests"), or when the upstream answered a HEAD of the digest in that repository with
 * 2xx. A converted blob or manifest the upstream never saw belongs to a repository when its source
 * does ({@link ConversionIndex.Origin#source()}). Links are records in the store (never evicted)
 * with a bounded in-memory cache in front; a storage failure reads as "not linked" and costs one
 * HEAD, never a wrong answer.
 */
final class RepositoryLinks {
  private static final Logger LOG = LoggerFactory.getLogger(RepositoryLinks.class);

  /** Access control off: every check passes, nothing is recorded. */
  static final RepositoryLinks OFF = new RepositoryLinks(null, null, null);

  /** What the client asked for: decides the HEAD sent upstream and the error code. */
  enum Kind {
    BLOB(ErrorCode.BLOB_UNKNOWN),
    MANIFEST(ErrorCode.MANIFEST_UNKNOWN);

    private final ErrorCode unknown;

    Kind(ErrorCode unknown) {
      this.unknown = unknown;
    }
  }

  private final Function<String, RegistryClient> clients;
  private final SmallObjects objects;
  private final ConversionIndex conversions;
  private final Cache<String, Boolean> known = Caffeine.newBuilder().maximumSize(200_000).build();

  RepositoryLinks(
      Function<String, RegistryClient> clients, ObjectStore store, ConversionIndex conversions) {
    this.clients = clients;
    this.objects = store == null ? null : new SmallObjects(store, 1024);
    this.conversions = conversions;
  }

  boolean active() {
    return objects != null;
  }

  /** Whether {@code route}'s repository is known to hold {@code digest}. */
  boolean linked(Route route, Digest digest) {
    if (!active()) {
      return true;
    }
    String key = key(route, digest);
    if (known.getIfPresent(key) != null) {
      return true;
    }
    try {
      if (objects.getBytes(key).isPresent()) {
        known.put(key, Boolean.TRUE);
        return true;
      }
    } catch (IOException e) {
      LOG.warn("cannot read repository link {}: {}", key, e.getMessage());
    }
    return false;
  }

  /** Records that {@code route}'s repository holds {@code digest}; cheap when already known. */
  void link(Route route, Digest digest) {
    if (!active()) {
      return;
    }
    String key = key(route, digest);
    if (known.getIfPresent(key) != null) {
      return;
    }
    known.put(key, Boolean.TRUE);
    try {
      objects.putText(key, digest.toString());
    } catch (IOException e) {
      LOG.warn("cannot store repository link {}: {}", key, e.getMessage());
    }
  }

  /**
   * Links {@code doc} and every descriptor it references (config, layers, child manifests) to
   * {@code route}; call only for a manifest known to be in that repository. Foreign layers ({@code
   * urls}) are not content of the repository and are skipped. The manifest is parsed once per
   * repository and process, not on every request.
   */
  void linkWithReferences(Route route, ManifestDocument doc) {
    if (!active()) {
      return;
    }
    link(route, doc.digest());
    String parsed = key(route, doc.digest()) + "#references";
    if (known.getIfPresent(parsed) != null) {
      return;
    }
    JsonNode json;
    try {
      json = doc.json();
    } catch (RuntimeException e) {
      return;
    }
    linkDescriptor(route, json.path("config"));
    json.path("layers").forEach(d -> linkDescriptor(route, d));
    json.path("manifests").forEach(d -> linkDescriptor(route, d));
    known.put(parsed, Boolean.TRUE);
  }

  private void linkDescriptor(Route route, JsonNode descriptor) {
    if (!descriptor.isObject() || descriptor.has("urls")) {
      return;
    }
    try {
      link(route, Digest.parse(descriptor.path("digest").asText()));
    } catch (RegistryException e) {
      // not a digest: nothing to link
    }
  }

  /**
   * Returns when {@code route}'s repository holds {@code digest}: linked already, or confirmed now
   * by its upstream (HEAD with the proxy's credentials), or — for converted content — through its
   * source. Records what it confirmed.
   *
   * @throws RegistryException {@code BLOB_UNKNOWN}/{@code MANIFEST_UNKNOWN} when the upstream does
   *     not have it there, the upstream's error (e.g. {@code UNAVAILABLE}) when it cannot tell
   */
  void require(Route route, Digest digest, Kind kind) {
    if (linked(route, digest)) {
      return;
    }
    Optional<ConversionIndex.Origin> origin = conversions.origin(digest);
    if (origin.isPresent()) {
      Digest source = origin.get().source();
      Kind sourceKind =
          ConversionIndex.Origin.MANIFEST.equals(origin.get().kind()) ? Kind.MANIFEST : Kind.BLOB;
      if (!linked(route, source) && !upstreamHas(route, source, sourceKind)) {
        throw unknown(route, digest, kind);
      }
      link(route, source);
    } else if (!upstreamHas(route, digest, kind)) {
      throw unknown(route, digest, kind);
    }
    link(route, digest);
  }

  /**
   * {@link #require} for a digest transship converted (it has an origin record), before any work is
   * spent regenerating it for this repository; other digests are left to the caller's own upstream
   * request.
   */
  void requireIfConverted(Route route, Digest digest, Kind kind) {
    if (!linked(route, digest) && conversions.origin(digest).isPresent()) {
      require(route, digest, kind);
    }
  }

  private boolean upstreamHas(Route route, Digest digest, Kind kind) {
    String alias = route.upstream().alias();
    RegistryClient client = clients.apply(alias);
    try (UpstreamResponse response =
        kind == Kind.BLOB
            ? client.blob(route.repository(), digest, true, null)
            : client.manifest(route.repository(), digest.toString(), true)) {
      if (response.isSuccess()) {
        return true;
      }
      if (response.status() == 404) {
        return false;
      }
      throw UpstreamErrors.fromResponse(response, alias, kind.unknown);
    } catch (IOException e) {
      throw UpstreamErrors.fromIo(e, alias);
    }
  }

  private static RegistryException unknown(Route route, Digest digest, Kind kind) {
    return new RegistryException(
        kind.unknown, digest + " is not known in repository " + route.describe());
  }

  private static String key(Route route, Digest digest) {
    return StorageKeys.repositoryLink(route.upstream().alias(), route.repository().value(), digest);
  }
}
