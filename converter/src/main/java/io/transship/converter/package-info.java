/**
 * Pure format code over streams: layer transcoders (gzip to zstd, eStargz) and manifest rewriting.
 * No Netty, no HTTP client, no AWS SDK, no storage: options in, result out.
 *
 * <ul>
 *   <li>{@link io.transship.converter.LayerRules} decides what is converted;
 *   <li>{@link io.transship.converter.ZstdTranscoder} re-compresses a layer's tar with zstd;
 *   <li>{@link io.transship.converter.ImageConfig} reads the diff_ids a layer is checked against;
 *   <li>{@link io.transship.converter.ManifestRewriter} writes the OCI manifest and index that
 *       point at the converted blobs.
 * </ul>
 */
package io.transship.converter;
