package io.transship.storage;

class InMemoryObjectStoreTest extends ObjectStoreContract {
  @Override
  protected ObjectStore newStore() {
    return new InMemoryObjectStore();
  }
}
