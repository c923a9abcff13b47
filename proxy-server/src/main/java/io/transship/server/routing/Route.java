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
 */
public record Route(UpstreamConfig upstream, RepositoryName repository, String clientName) {

  /** {@code alias/repository}, used in logs, metrics and storage keys. */
  public String describe() {
    return upstream.alias() + "/" + repository;
  }
}
