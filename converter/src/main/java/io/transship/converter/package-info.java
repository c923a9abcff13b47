/**
 * Pure format code over streams: layer transcoders (gzip to zstd, eStargz) and manifest rewriting.
 * No Netty, no HTTP client, no AWS SDK: options in, result out. Empty until conversion lands (see
 * docs/architecture.md); the proxy already depends on this module so the dependency rules hold.
 */
package io.transship.converter;
