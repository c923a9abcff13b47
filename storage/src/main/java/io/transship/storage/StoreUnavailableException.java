package io.transship.storage;

import java.io.IOException;

/** The store is known to be unreachable; the call was not attempted. */
public final class StoreUnavailableException extends IOException {
  private static final long serialVersionUID = 1L;

  public StoreUnavailableException(String problem) {
    super("storage unavailable: " + problem);
  }
}
