package io.transship.storage;

/** A store on this machine's disk: an {@link ObjectStore} whose objects are plain files. */
public interface LocalObjectStore extends ObjectStore, LocalFiles {}
