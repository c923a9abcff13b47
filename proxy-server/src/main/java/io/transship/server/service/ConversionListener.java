package io.transship.server.service;

import io.transship.converter.LayerReplacement;
import io.transship.oci.Digest;

/** Progress of one conversion request, for the pre-warm endpoint's progress display. */
public interface ConversionListener {
  ConversionListener NONE = new ConversionListener() {};

  default void manifestStarted(Digest source, String mediaType) {}

  default void layerStarted(Digest source, long size) {}

  default void layerFinished(Digest source, LayerReplacement converted) {}

  default void layerFailed(Digest source, String reason) {}

  default void manifestFinished(Digest source, Digest converted) {}
}
