package io.transship.converter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.transship.converter.LayerTranscoder.SourceCompression;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Decompression bombs against both transcoders: the conversion stops as soon as a limit is passed,
 * having inflated no more than the limit plus one read buffer, whatever the bomb's real size (8 GiB
 * here, from an 8 MiB layer: the shape of the attack in the issue).
 */
class InflationLimitsTest {
  private static final long MIB = 1 << 20;

  /** What the tar reader and inflater may read past the limit before the check sees it. */
  private static final long SLACK = 2 * MIB;

  @TempDir static Path spool;

  static Stream<Arguments> transcoders() {
    return Stream.of(
        Arguments.of("zstd", (Factory) limits -> new ZstdTranscoder(new ZstdOptions(3, 2), limits)),
        Arguments.of(
            "estargz",
            (Factory)
                limits ->
                    new EstargzTranscoder(
                        new EstargzOptions(6, 4 << 20, List.of(), 2), spool, limits)),
        Arguments.of(
            "estargz-prioritized",
            (Factory)
                limits ->
                    new EstargzTranscoder(
                        new EstargzOptions(6, 4 << 20, List.of("bomb"), 2), spool, limits)));
  }

  interface Factory {
    LayerTranscoder create(InflationLimits limits);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transcoders")
  void anEightGibibyteBombStopsAtTheRatioLimit(String name, Factory factory) throws Exception {
    InflationLimits limits = new InflationLimits(16L << 30, 100, 1_000_000);
    long compressed = Bombs.zeroFileLayerSize(8192);
    System.out.printf("[bombs] %s: bomb of %d bytes inflating to 8 GiB%n", name, compressed);
    long started = System.nanoTime();
    try (InputStream bomb = Bombs.zeroFileLayer(8192)) {
      assertThatThrownBy(() ->
              factory
                  .create(limits)
                  .transcode(bomb, SourceCompression.GZIP, null, OutputStream.nullOutputStream()))
          .isInstanceOf(LayerLimitException.class)
          .isInstanceOf(UnsupportedLayerException.class)
          .hasMessageContaining("100 times")
          .satisfies(e -> {
            long inflated = ((LayerLimitException) e).inflatedBytes();
            System.out.printf(
                "[bombs] %s: stopped after %d MiB inflated in %d ms%n",
                name, inflated / MIB, (System.nanoTime() - started) / 1_000_000);
            // the ratio is checked against what was read so far, so it trips early
            assertThat(inflated).isLessThanOrEqualTo(limits.allowedFor(compressed) + SLACK);
          });
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transcoders")
  void theAbsoluteLimitStopsALayerThatIsMerelyLarge(String name, Factory factory) throws Exception {
    InflationLimits limits = new InflationLimits(64 * MIB, 0, 1_000_000);
    try (InputStream bomb = Bombs.zeroFileLayer(1024)) {
      assertThatThrownBy(() ->
              factory
                  .create(limits)
                  .transcode(bomb, SourceCompression.GZIP, null, OutputStream.nullOutputStream()))
          .isInstanceOf(LayerLimitException.class)
          .hasMessageContaining("more than " + 64 * MIB + " bytes")
          .satisfies(e ->
              assertThat(((LayerLimitException) e).inflatedBytes())
                  .isGreaterThan(64 * MIB)
                  .isLessThanOrEqualTo(64 * MIB + SLACK));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transcoders")
  void tooManyEntriesStopAtTheEntryLimit(String name, Factory factory) throws Exception {
    byte[] layer = Bombs.manyEntriesLayer(5000);
    InflationLimits limits = new InflationLimits(16L << 30, 0, 1000);
    assertThatThrownBy(() ->
            factory
                .create(limits)
                .transcode(
                    new ByteArrayInputStream(layer),
                    SourceCompression.GZIP,
                    null,
                    OutputStream.nullOutputStream()))
        .isInstanceOf(LayerLimitException.class)
        .hasMessageContaining("more than 1000 tar entries")
        .satisfies(e ->
            assertThat(((LayerLimitException) e).inflatedBytes())
                .isLessThanOrEqualTo(1001 * 512 + SLACK));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("transcoders")
  void layersWithinTheLimitsConvertAsWithoutLimits(String name, Factory factory) throws Exception {
    byte[] layer = Bombs.manyEntriesLayer(500);
    var limited = new java.io.ByteArrayOutputStream();
    var unlimited = new java.io.ByteArrayOutputStream();
    factory
        .create(new InflationLimits(16L << 30, 200, 1000))
        .transcode(new ByteArrayInputStream(layer), SourceCompression.GZIP, null, limited);
    factory
        .create(InflationLimits.none())
        .transcode(new ByteArrayInputStream(layer), SourceCompression.GZIP, null, unlimited);
    assertThat(limited.toByteArray()).isEqualTo(unlimited.toByteArray());
  }
}
