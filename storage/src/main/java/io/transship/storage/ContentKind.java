package io.transship.storage;

/**
 * What an object key holds, which decides its lifetime (see {@link StorageKeys#kindOf}).
 *
 * <ul>
 *   <li>{@link #CONTENT}: content-addressed blobs and manifests. They can be evicted under a size
 *       bound: an original is fetched again from its upstream, a converted one is regenerated from
 *       its recorded origin.
 *   <li>{@link #RECORD}: small records (tag records, the conversion index, origins, leases) that
 *       say how to find or rebuild content. Eviction never touches them: without them an evicted
 *       converted blob could not be rebuilt.
 * </ul>
 */
public enum ContentKind {
  CONTENT,
  RECORD
}
