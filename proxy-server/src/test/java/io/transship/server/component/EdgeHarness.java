package io.transship.server.component;

import io.transship.server.config.EdgeConfig;
import io.transship.server.config.TransshipConfig;

/** Config helpers for tests of the client-facing edge (TLS, auth). */
final class EdgeHarness {
  private EdgeHarness() {}

  static TransshipConfig withEdge(TransshipConfig base, EdgeConfig edge) {
    return new TransshipConfig(
        base.listen(),
        base.adminListen(),
        base.storage(),
        base.tagTtl(),
        base.defaultUpstream(),
        base.upstreams(),
        base.conversion(),
        edge);
  }
}
