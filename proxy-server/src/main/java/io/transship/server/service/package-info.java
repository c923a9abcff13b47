/**
 * The proxy's use cases, Netty-free: {@link io.transship.server.service.RegistryService} dispatches
 * a routed request to {@link io.transship.server.service.ManifestService} (tags remote-first with a
 * TTL and stale-if-error, digests local-first), {@link io.transship.server.service.BlobService}
 * (store first; on a miss one verified upstream download per digest, see {@link
 * io.transship.server.service.BlobDownloads}) or {@link
 * io.transship.server.service.PassThroughService} (tags list, referrers). Upstream failures become
 * OCI errors in {@link io.transship.server.service.UpstreamErrors}, the one place that maps them.
 * With access rules on, {@code RepositoryLinks} keeps content shared by digest from being served
 * through a repository that does not hold it.
 */
package io.transship.server.service;
