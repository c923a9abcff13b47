package io.transship.server.routing;

import io.transship.oci.RepositoryName;
import io.transship.server.config.UpstreamConfig;

/**
 * Where a repository request goes.
 *
 * @param upstream the configured upstream registry
 * @param repository the repository name as the upstream knows it (with {@code library/} added for
 *     Docker Hub single names)
 * @param clientName the name as the client wrote it in the path, prefix included, for links back
 * @param formatSelector the format named by a leading path segment ({@code /v2/zstd/...}), or null
 *     when the client did not choose
 */
public record Route(
    UpstreamConfig upstream, RepositoryName repository, String clientName, String formatSelector) {

  /** The format this request asks for: the path selector, else the upstream's default. */
  public String format() {
    return formatSelector != null ? formatSelector : upstream.format();
  }

  /** {@code alias/repository}, used in logs, metrics and storage keys. */
  public String describe() {
    return upstream.alias() + "/" + repository;
  }
}
