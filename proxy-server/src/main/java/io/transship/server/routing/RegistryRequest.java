package io.transship.server.routing;

import io.transship.oci.Digest;
import io.transship.oci.Reference;

/** One pull-side request of the OCI distribution API, parsed and validated. */
public sealed interface RegistryRequest {

  /** A short route name for metrics and logs. */
  String routeName();

  /** {@code GET /v2/}: the API version check (end-1). */
  record Base() implements RegistryRequest {
    @Override
    public String routeName() {
      return "base";
    }
  }

  /** {@code GET|HEAD /v2/<name>/manifests/<reference>} (end-3). */
  record Manifest(Route route, Reference reference, boolean head, ClientInfo client)
      implements RegistryRequest {
    @Override
    public String routeName() {
      return "manifest";
    }
  }

  /** {@code GET|HEAD /v2/<name>/blobs/<digest>} (end-2), with the raw {@code Range} header. */
  record Blob(Route route, Digest digest, boolean head, String range) implements RegistryRequest {
    @Override
    public String routeName() {
      return "blob";
    }
  }

  /** {@code GET /v2/<name>/tags/list?n=&last=} (end-8a). */
  record TagsList(Route route, Integer n, String last) implements RegistryRequest {
    @Override
    public String routeName() {
      return "tags";
    }
  }

  /** {@code GET /v2/<name>/referrers/<digest>?artifactType=} (end-12a). */
  record Referrers(Route route, Digest digest, String artifactType) implements RegistryRequest {
    @Override
    public String routeName() {
      return "referrers";
    }
  }

  /** What the client said about itself, for content negotiation. */
  record ClientInfo(String accept, String userAgent) {}
}
