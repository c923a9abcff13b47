/**
 * Value types every transship module shares, parsed once and valid by construction.
 *
 * <p>Start with {@link io.transship.oci.Digest} (content addresses), {@link
 * io.transship.oci.ManifestDocument} (a manifest's exact bytes with its media type and digest) and
 * {@link io.transship.oci.ErrorCode} (the one table of OCI error codes and their HTTP statuses).
 * Names, tags and references follow the grammar of the OCI distribution spec v1.1, section "Pulling
 * manifests"; ranges follow RFC 9110 section 14.
 */
package io.transship.oci;
