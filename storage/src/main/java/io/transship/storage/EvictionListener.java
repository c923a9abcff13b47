package io.transship.storage;

/**
 * Told about every object a size-bounded store evicts (for metrics and caches). Called under the
 * store's lock: it must be quick and must not call back into the store.
 */
@FunctionalInterface
public interface EvictionListener {
  EvictionListener NONE = (key, bytes) -> {};

  void evicted(String key, long bytes);
}
