package io.transship.storage;

/**
 * Told by {@link BoundedObjectStore} about every object it evicted, so in-memory caches in front of
 * the store drop what the store no longer holds.
 */
@FunctionalInterface
public interface EvictionListener {
  void evicted(String key);
}
