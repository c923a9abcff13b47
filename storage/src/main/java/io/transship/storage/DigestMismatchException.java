package io.transship.storage;

import io.transship.oci.Digest;
import java.io.IOException;

/**
 * Thrown by {@link VerifyingBlobWriter#commit()} when the bytes written do not hash to the expected
 * digest; nothing was stored.
 */
public final class DigestMismatchException extends IOException {
  private static final long serialVersionUID = 1L;

  private final Digest expected;
  private final Digest actual;

  public DigestMismatchException(Digest expected, Digest actual) {
    super("content digest " + actual + " does not match expected " + expected);
    this.expected = expected;
    this.actual = actual;
  }

  /** The digest the content was announced with. */
  public Digest expected() {
    return expected;
  }

  /** The digest of the bytes actually written. */
  public Digest actual() {
    return actual;
  }
}
