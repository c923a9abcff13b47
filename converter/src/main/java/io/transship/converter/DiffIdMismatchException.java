package io.transship.converter;

import io.transship.oci.Digest;
import java.io.IOException;

/** The uncompressed source layer does not hash to the diff_id its config claims. */
public final class DiffIdMismatchException extends IOException {
  private static final long serialVersionUID = 1L;

  public DiffIdMismatchException(Digest expected, Digest actual) {
    super("layer diff_id is " + actual + " but the config says " + expected);
  }
}
