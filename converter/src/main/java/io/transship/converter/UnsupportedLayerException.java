package io.transship.converter;

import java.io.IOException;

/**
 * The source layer is a valid tar that this transcoder cannot convert faithfully (for eStargz: a
 * PAX global header, a sparse file, duplicate names, a hardlink to a file outside the layer, ...).
 * The caller should keep serving the layer in its original format; nothing written so far is
 * usable.
 */
public class UnsupportedLayerException extends IOException {
  private static final long serialVersionUID = 1L;

  public UnsupportedLayerException(String message) {
    super(message);
  }
}
