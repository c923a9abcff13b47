package io.transship.converter;

/**
 * A layer exceeded an {@link InflationLimits} bound while it was being converted (a decompression
 * bomb, or a layer too large to be worth converting). Permanent, like any unsupported layer: the
 * layer keeps its original form.
 */
public final class LayerLimitException extends UnsupportedLayerException {
  private static final long serialVersionUID = 1L;

  private final long inflatedBytes;

  public LayerLimitException(String message, long inflatedBytes) {
    super(message);
    this.inflatedBytes = inflatedBytes;
  }

  /** Uncompressed bytes read when the limit tripped. */
  public long inflatedBytes() {
    return inflatedBytes;
  }
}
