package io.transship.storage;

import java.time.Instant;

/** What {@link ObjectStore#stat} and {@link ObjectStore#list} say of one object. */
public record ObjectInfo(String key, long size, Instant lastModified) {}
