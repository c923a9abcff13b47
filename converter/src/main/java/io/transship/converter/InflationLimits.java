package io.transship.converter;

/**
 * What one layer may cost a transcoder, checked while it streams so that a decompression bomb is
 * abandoned early: at most {@code maxInflatedBytes} of uncompressed tar, at most {@code maxRatio}
 * uncompressed bytes per compressed byte read so far (with {@value #RATIO_FLOOR_BYTES} bytes of
 * compressed input granted up front, so a small layer's first blocks never trip it), and at most
 * {@code maxEntries} tar headers (extension headers included). Limits never change the bytes a
 * conversion writes; a layer over one is refused with {@link LayerLimitException} and keeps its
 * original form.
 *
 * @param maxInflatedBytes uncompressed bytes of one layer, {@code Long.MAX_VALUE} for none
 * @param maxRatio uncompressed bytes per compressed byte, {@code 0} for none
 * @param maxEntries tar headers of one layer, {@code Long.MAX_VALUE} for none
 */
public record InflationLimits(long maxInflatedBytes, int maxRatio, long maxEntries) {

  /** Compressed bytes the ratio is computed against at least. */
  public static final long RATIO_FLOOR_BYTES = 1 << 20;

  public InflationLimits {
    if (maxInflatedBytes < 1 || maxRatio < 0 || maxEntries < 1) {
      throw new IllegalArgumentException(
          "inflation limits must be positive (ratio 0 = none): "
              + maxInflatedBytes
              + ", "
              + maxRatio
              + ", "
              + maxEntries);
    }
  }

  /** No limits (offline conversion of trusted input, tests). */
  public static InflationLimits none() {
    return new InflationLimits(Long.MAX_VALUE, 0, Long.MAX_VALUE);
  }

  /** The proxy's defaults: 16 GiB, ratio 200, one million entries. */
  public static InflationLimits defaults() {
    return new InflationLimits(16L << 30, 200, 1_000_000);
  }

  /** How many uncompressed bytes {@code compressedRead} compressed bytes allow. */
  long allowedFor(long compressedRead) {
    if (maxRatio == 0) {
      return maxInflatedBytes;
    }
    long base = Math.max(compressedRead, RATIO_FLOOR_BYTES);
    long byRatio = base > Long.MAX_VALUE / maxRatio ? Long.MAX_VALUE : base * maxRatio;
    return Math.min(maxInflatedBytes, byRatio);
  }
}
