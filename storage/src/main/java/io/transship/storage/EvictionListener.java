package io.transship.storage;

/**
 * Told by {@link BoundedObjectStore} about every object it evicted, after the file is gone and
 * outside the store's lock, so in-memory caches in front of the store drop what the store no longer
 * holds and metrics count what left.
 */
@FunctionalInterface
public interface EvictionListener {
  EvictionListener NONE = (key, bytes) -> {};

  void evicted(String key, long bytes);
}
