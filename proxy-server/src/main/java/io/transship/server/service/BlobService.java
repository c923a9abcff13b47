package io.transship.server.service;

import io.transship.oci.ByteRange;
import io.transship.oci.Digest;
import io.transship.oci.ErrorCode;
import io.transship.oci.RangeRequest;
import io.transship.oci.RegistryException;
import io.transship.server.reply.Body;
import io.transship.server.reply.BodySink;
import io.transship.server.reply.RangeReplies;
import io.transship.server.reply.RangeSource;
import io.transship.server.reply.Reply;
import io.transship.server.routing.RegistryRequest;
import io.transship.server.routing.Route;
import io.transship.server.upstream.RegistryClient;
import io.transship.server.upstream.UpstreamResponse;
import io.transship.storage.BlobStore;
import io.transship.storage.ObjectInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Blobs: from the store when present (zero-copy where the store is on local disk), otherwise
 * streamed from the single upstream download while it is stored. {@code Range} is honoured on hits
 * and misses alike; lazy pullers depend on it.
 */
public final class BlobService {
  private static final Logger LOG = LoggerFactory.getLogger(BlobService.class);
  private static final int MAX_JOIN_ATTEMPTS = 3;

  private final Function<String, RegistryClient> clients;
  private final BlobStore blobs;
  private final BlobDownloads downloads;
  private final ProxyMetrics metrics;
  private final Duration presignExpiry;
  private final RepositoryLinks links;

  BlobService(
      Function<String, RegistryClient> clients,
      BlobStore blobs,
      BlobDownloads downloads,
      ProxyMetrics metrics,
      Duration presignExpiry,
      RepositoryLinks links) {
    this.links = links;
    this.clients = clients;
    this.blobs = blobs;
    this.downloads = downloads;
    this.metrics = metrics;
    this.presignExpiry = presignExpiry;
  }

  Reply serve(RegistryRequest.Blob request) {
    Digest digest = request.digest();
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Content-Type", "application/octet-stream");
    headers.put("Docker-Content-Digest", digest.toString());
    headers.put("ETag", "\"" + digest + "\"");
    for (int attempt = 1; ; attempt++) {
      Optional<ObjectInfo> stored = stat(digest);
      if (stored.isPresent()) {
        // shared by digest: served through this repository only once it is known to hold it
        links.require(request.route(), digest, RepositoryLinks.Kind.BLOB);
        metrics.cache("blob", "hit");
        Optional<Reply> redirect = presignedRedirect(request, stored.get().size());
        if (redirect.isPresent()) {
          return redirect.get();
        }
        Reply reply =
            RangeReplies.reply(
                headers, new StoredBlob(blobs, digest, stored.get().size()), request.range());
        return request.head() ? reply.headOnly() : reply;
      }
      if (request.head()) {
        metrics.cache("blob", "miss");
        return headUpstream(request, headers);
      }
      if (attempt == 1) {
        metrics.cache("blob", "miss");
      }
      BlobDownload download = downloads.join(request.route(), digest);
      boolean ours = download.fetchedThrough(request.route());
      if (!ours) {
        // joined a download another repository started
        links.require(request.route(), digest, RepositoryLinks.Kind.BLOB);
      }
      Optional<RangeSource> reader;
      try {
        reader = download.reader();
      } catch (IOException e) {
        throw UpstreamErrors.fromIo(e, request.route().upstream().alias());
      }
      if (reader.isPresent()) {
        if (ours) {
          links.link(request.route(), digest); // the upstream answered 2xx for this repository
        }
        return RangeReplies.reply(headers, reader.get(), request.range());
      }
      if (attempt >= MAX_JOIN_ATTEMPTS) {
        throw new RegistryException(ErrorCode.UNAVAILABLE, "blob could not be cached; retry");
      }
    }
  }

  /**
   * A 307 to a presigned URL of the store, when enabled — only for GETs of the whole blob or one
   * range: S3 can't answer several ranges in one response, and HEAD stays with transship. Never
   * cached by clients or intermediaries ({@code Cache-Control: no-store}).
   */
  private Optional<Reply> presignedRedirect(RegistryRequest.Blob request, long size) {
    if (presignExpiry == null || request.head()) {
      return Optional.empty();
    }
    RangeRequest range = RangeRequest.parse(request.range(), size);
    if (range instanceof RangeRequest.Unsatisfiable
        || (range instanceof RangeRequest.Partial partial && partial.ranges().size() > 1)) {
      return Optional.empty();
    }
    return blobs
        .presignGet(request.digest(), presignExpiry)
        .map(url -> {
          Map<String, String> headers = new LinkedHashMap<>();
          headers.put("Location", url.toString());
          headers.put("Cache-Control", "no-store");
          headers.put("Docker-Content-Digest", request.digest().toString());
          return new Reply(307, headers, new Body.Empty());
        });
  }

  /**
   * Makes sure the blob is in the store, downloading it (single flight) when it is not; blocks.
   *
   * @throws RegistryException when the upstream fails or the blob could not be stored
   */
  void ensureLocal(Route route, Digest digest) {
    ensureLocal(route, digest, -1);
  }

  /**
   * Like {@link #ensureLocal(Route, Digest)}, for a blob whose descriptor says it has {@code
   * expectedSize} bytes (-1: unknown): the download stops there.
   */
  void ensureLocal(Route route, Digest digest, long expectedSize) {
    for (int attempt = 1; attempt <= MAX_JOIN_ATTEMPTS; attempt++) {
      if (stat(digest).isPresent()) {
        return;
      }
      downloads.join(route, digest, expectedSize).awaitDone();
    }
    if (stat(digest).isEmpty()) {
      throw new RegistryException(ErrorCode.UNAVAILABLE, "blob " + digest + " could not be stored");
    }
  }

  /**
   * The whole blob to read once, for converting while downloading: from the store when present,
   * else following the (single-flight) upstream download as it arrives. The stream's last byte
   * comes only once the digest checked out.
   *
   * @throws RegistryException when the upstream fails before the body starts
   */
  Source openWhileDownloading(Route route, Digest digest, long expectedSize) throws IOException {
    for (int attempt = 1; attempt <= MAX_JOIN_ATTEMPTS; attempt++) {
      if (stat(digest).isPresent()) {
        try {
          return new Source(blobs.open(digest, null), null);
        } catch (io.transship.storage.NoSuchObjectException evictedMeanwhile) {
          continue;
        }
      }
      BlobDownload download = downloads.join(route, digest, expectedSize);
      Optional<InputStream> following = download.stream();
      if (following.isPresent()) {
        return new Source(following.get(), download);
      }
    }
    throw new RegistryException(ErrorCode.UNAVAILABLE, "blob " + digest + " could not be read");
  }

  /**
   * A blob being read: from the store (verified), or following {@code download}, whose bytes are
   * verified only once it is done ({@link BlobDownload#awaitDone()} throws if they were wrong).
   */
  record Source(InputStream in, BlobDownload download) {}

  BlobStore store() {
    return blobs;
  }

  private Optional<ObjectInfo> stat(Digest digest) {
    try {
      return blobs.stat(digest);
    } catch (IOException e) {
      LOG.warn("cannot stat blob {}: {}", digest, e.getMessage());
      return Optional.empty();
    }
  }

  /** HEAD on a miss asks the upstream and downloads nothing. */
  private Reply headUpstream(RegistryRequest.Blob request, Map<String, String> headers) {
    String alias = request.route().upstream().alias();
    RegistryClient client = clients.apply(alias);
    try (UpstreamResponse response =
        client.blob(request.route().repository(), request.digest(), true, null)) {
      if (!response.isSuccess()) {
        throw UpstreamErrors.fromResponse(response, alias, ErrorCode.BLOB_UNKNOWN);
      }
      links.link(request.route(), request.digest());
      Map<String, String> copy = new LinkedHashMap<>(headers);
      copy.put("Accept-Ranges", "bytes");
      response.contentLength().ifPresent(n -> copy.put("Content-Length", Long.toString(n)));
      return new Reply(200, copy, new Body.Empty());
    } catch (IOException e) {
      throw UpstreamErrors.fromIo(e, alias);
    }
  }

  /** A blob in the store. */
  private record StoredBlob(BlobStore blobs, Digest digest, long size) implements RangeSource {
    @Override
    public Optional<Path> localFile() {
      return blobs.localFile(digest);
    }

    @Override
    public void copy(ByteRange range, BodySink sink) throws IOException {
      try (InputStream in = blobs.open(digest, range)) {
        byte[] buffer = new byte[64 * 1024];
        long remaining = range.length();
        while (remaining > 0) {
          int n = in.read(buffer, 0, (int) Math.min(buffer.length, remaining));
          if (n < 0) {
            throw new IOException("stored blob " + digest + " is shorter than its size");
          }
          sink.write(buffer, 0, n);
          remaining -= n;
        }
      }
    }
  }
}
