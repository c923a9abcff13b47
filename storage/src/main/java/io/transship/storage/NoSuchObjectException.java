package io.transship.storage;

import java.io.IOException;

/** Thrown by {@link ObjectStore#open} for a key that does not exist. */
public final class NoSuchObjectException extends IOException {
  private static final long serialVersionUID = 1L;

  public NoSuchObjectException(String key) {
    super("no such object: " + key);
  }
}
