package io.transship.server.service;

import io.transship.oci.Digest;
import io.transship.oci.ErrorCode;
import io.transship.oci.ManifestDocument;
import io.transship.oci.Reference;
import io.transship.oci.RegistryException;
import io.transship.server.reply.Body;
import io.transship.server.reply.Reply;
import io.transship.server.routing.RegistryRequest;
import io.transship.server.routing.Route;
import io.transship.server.upstream.RegistryClient;
import io.transship.server.upstream.UpstreamResponse;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Manifests, served as the exact bytes the upstream holds.
 *
 * <p>By digest: local first, fetched once and kept for good (content never changes). By tag: remote
 * first, but a tag checked less than {@code tagTtl} ago is answered from the cache; after that it
 * is revalidated with a HEAD (which costs no Docker Hub rate limit) and only fetched again when its
 * digest changed. When the upstream is unreachable or rate limiting, a cached tag is served stale
 * rather than failing the pull.
 *
 * <p>Single flight ({@link SingleFlight}) for every upstream request: however many clients ask for
 * a cold tag or digest at once, the upstream sees one GET; a tag past its TTL is revalidated by one
 * HEAD, and clients arriving while it runs are served the cached digest without waiting
 * (stale-while-revalidate).
 */
public final class ManifestService {
  private static final Logger LOG = LoggerFactory.getLogger(ManifestService.class);

  private final Function<String, RegistryClient> clients;
  private final ManifestRepository repository;
  private final Clock clock;
  private final Duration tagTtl;
  private final ProxyMetrics metrics;
  private final Conversion conversion;
  private final RepositoryLinks links;
  private final SingleFlight<String, CompletableFuture<ManifestDocument>> flights =
      new SingleFlight<>();

  /** What a client gets for a manifest resolved by tag: the source or its converted form. */
  @FunctionalInterface
  interface Conversion {
    Conversion NONE = (route, client, source) -> source;

    ManifestDocument forClient(
        Route route, RegistryRequest.ClientInfo client, ManifestDocument source);
  }

  ManifestService(
      Function<String, RegistryClient> clients,
      ManifestRepository repository,
      Clock clock,
      Duration tagTtl,
      ProxyMetrics metrics,
      Conversion conversion) {
    this(clients, repository, clock, tagTtl, metrics, conversion, RepositoryLinks.OFF);
  }

  ManifestService(
      Function<String, RegistryClient> clients,
      ManifestRepository repository,
      Clock clock,
      Duration tagTtl,
      ProxyMetrics metrics,
      Conversion conversion,
      RepositoryLinks links) {
    this.links = links;
    this.clients = clients;
    this.repository = repository;
    this.clock = clock;
    this.tagTtl = tagTtl;
    this.metrics = metrics;
    this.conversion = conversion;
  }

  Reply serve(RegistryRequest.Manifest request) {
    Route route = request.route();
    ManifestDocument doc =
        switch (request.reference()) {
          case Reference.ByDigest byDigest -> linkedByDigest(route, byDigest.digest());
          case Reference.Tag tag -> {
            ManifestDocument source = byTag(route, tag.name());
            links.link(route, source.digest());
            yield conversion.forClient(route, request.client(), source);
          }
        };
    links.linkWithReferences(route, doc);
    Reply reply = reply(doc);
    return request.head() ? reply.headOnly() : reply;
  }

  /**
   * {@link #byDigest} for a client of {@code route}: the manifest is cached by digest, shared by
   * every repository, so it is served through this one only once the repository is known to hold it
   * ({@link RepositoryLinks}); a miss is fetched through this repository, which proves it.
   */
  private ManifestDocument linkedByDigest(Route route, Digest digest) {
    if (links.linked(route, digest)) {
      return byDigest(route, digest);
    }
    Optional<ManifestDocument> local = repository.get(digest);
    if (local.isPresent()) {
      links.require(route, digest, RepositoryLinks.Kind.MANIFEST);
      metrics.cache("manifest", "hit");
      return local.get();
    }
    metrics.cache("manifest", "miss");
    return SingleFlight.call(
        flights, flightKey(route, digest.toString()), () -> fetchByDigest(route, digest));
  }

  static Reply reply(ManifestDocument doc) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", doc.mediaType());
    headers.put("Docker-Content-Digest", doc.digest().toString());
    headers.put("ETag", "\"" + doc.digest() + "\"");
    return new Reply(200, headers, new Body.Bytes(doc.bytes()));
  }

  /** Local first; an upstream copy is accepted only when its bytes hash to {@code digest}. */
  ManifestDocument byDigest(Route route, Digest digest) {
    Optional<ManifestDocument> local = repository.get(digest);
    if (local.isPresent()) {
      metrics.cache("manifest", "hit");
      return local.get();
    }
    metrics.cache("manifest", "miss");
    return SingleFlight.call(
        flights, flightKey(route, digest.toString()), () -> fetchByDigest(route, digest));
  }

  private static String flightKey(Route route, String reference) {
    return route.upstream().alias() + "/" + route.repository().value() + ":" + reference;
  }

  private ManifestDocument fetchByDigest(Route route, Digest digest) {
    ManifestDocument fetched = fetch(route, digest.toString());
    if (!fetched.digest().equals(digest)
        && !digest.matches(digest.newHasher().digest(fetched.bytes()))) {
      metrics.digestMismatch();
      throw new RegistryException(
          ErrorCode.UPSTREAM_ERROR,
          "upstream "
              + route.upstream().alias()
              + " sent a manifest that does not match "
              + digest);
    }
    repository.put(fetched);
    return fetched;
  }

  ManifestDocument byTag(Route route, String tag) {
    String alias = route.upstream().alias();
    String repo = route.repository().value();
    Optional<TagRecord> record = repository.tag(alias, repo, tag);
    Optional<ManifestDocument> cached = record.flatMap(r -> repository.get(r.digest()));
    Instant now = clock.instant();
    if (cached.isPresent() && record.get().checkedAt().plus(tagTtl).isAfter(now)) {
      metrics.cache("tag", "hit");
      return cached.get();
    }
    String key = flightKey(route, tag);
    if (cached.isPresent() && flights.inFlight(key) != null) {
      metrics.cache("tag", "stale-while-revalidate");
      return cached.get(); // another request is revalidating it right now
    }
    return SingleFlight.call(flights, key, () -> refreshTag(route, tag, record, cached));
  }

  /** Revalidates (or first fetches) a tag upstream; one call at a time per tag. */
  private ManifestDocument refreshTag(
      Route route, String tag, Optional<TagRecord> record, Optional<ManifestDocument> cached) {
    String alias = route.upstream().alias();
    String repo = route.repository().value();
    Instant now = clock.instant();
    try {
      if (cached.isPresent()) {
        Optional<Digest> current = headDigest(route, tag);
        if (current.isPresent() && current.get().equals(cached.get().digest())) {
          repository.putTag(alias, repo, tag, record.get().checkedAgain(now));
          metrics.cache("tag", "revalidated");
          return cached.get();
        }
      }
      metrics.cache("tag", "miss");
      ManifestDocument fetched = fetch(route, tag);
      repository.put(fetched);
      repository.putTag(alias, repo, tag, new TagRecord(fetched.digest(), now));
      return fetched;
    } catch (RegistryException e) {
      if (e.code() == ErrorCode.MANIFEST_UNKNOWN || e.code() == ErrorCode.NAME_UNKNOWN) {
        repository.removeTag(alias, repo, tag);
      } else if (cached.isPresent() && UpstreamErrors.isUnavailability(e)) {
        metrics.cache("tag", "stale");
        LOG.warn(
            "upstream {} unavailable ({}); serving cached {}:{} -> {}",
            alias,
            e.getMessage(),
            repo,
            tag,
            cached.get().digest());
        return cached.get();
      }
      throw e;
    }
  }

  /** HEAD by tag: the digest the upstream reports, when it reports one. */
  private Optional<Digest> headDigest(Route route, String tag) {
    RegistryClient client = clients.apply(route.upstream().alias());
    try (UpstreamResponse response = client.manifest(route.repository(), tag, true)) {
      if (!response.isSuccess()) {
        throw UpstreamErrors.fromResponse(
            response, route.upstream().alias(), ErrorCode.MANIFEST_UNKNOWN);
      }
      String header = response.header("Docker-Content-Digest");
      return header == null ? Optional.empty() : Optional.of(Digest.parse(header));
    } catch (IOException e) {
      throw UpstreamErrors.fromIo(e, route.upstream().alias());
    } catch (RegistryException e) {
      if (e.code() == ErrorCode.DIGEST_INVALID) {
        return Optional.empty(); // a malformed header: fall back to GET
      }
      throw e;
    }
  }

  private static RegistryException tooLarge(Route route, String detail) {
    return new RegistryException(
        ErrorCode.UPSTREAM_ERROR,
        "upstream "
            + route.upstream().alias()
            + " sent a manifest larger than "
            + (ManifestDocument.MAX_BYTES >> 20)
            + " MiB, the limit of the OCI distribution spec; transship does not serve it",
        detail);
  }

  private ManifestDocument fetch(Route route, String reference) {
    RegistryClient client = clients.apply(route.upstream().alias());
    try (UpstreamResponse response = client.manifest(route.repository(), reference, false)) {
      if (!response.isSuccess()) {
        throw UpstreamErrors.fromResponse(
            response, route.upstream().alias(), ErrorCode.MANIFEST_UNKNOWN);
      }
      long declared = response.contentLength().orElse(-1);
      // the upstream's fault, not the client's: 502, never 400 MANIFEST_INVALID
      if (declared > ManifestDocument.MAX_BYTES) {
        throw tooLarge(route, declared + " bytes");
      }
      byte[] bytes;
      try {
        bytes = response.readBody(ManifestDocument.MAX_BYTES);
      } catch (UpstreamResponse.BodyTooLargeException e) {
        throw tooLarge(route, "more than " + ManifestDocument.MAX_BYTES + " bytes");
      }
      if (declared >= 0 && bytes.length != declared) {
        throw new IOException("manifest body shorter than its Content-Length");
      }
      try {
        return ManifestDocument.of(bytes, response.header("Content-Type"));
      } catch (RegistryException e) {
        throw new RegistryException(
            ErrorCode.UPSTREAM_ERROR,
            "upstream "
                + route.upstream().alias()
                + " sent an unusable manifest: "
                + e.getMessage(),
            e.detail());
      }
    } catch (IOException e) {
      throw UpstreamErrors.fromIo(e, route.upstream().alias());
    }
  }
}
