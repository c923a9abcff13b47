package io.transship.converter;

import io.transship.oci.Digest;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The settings of an {@link EstargzTranscoder}.
 *
 * <p><b>Default level 6</b>, not the reference's 9 (docs/formats.md "Defaults"), from measurement
 * (bench/estargz/run.sh: the rig's 128 MB debootstrap Debian rootfs tar, 2 threads vs {@code
 * esgz-build -procs 2}, 2 noisy cores): with libdeflate, level 6 writes a blob 2.8% smaller than
 * the reference at level 9 (51.27 vs 52.76 MB) at 63 MB/s against its 7.8 MB/s; our level 9 saves
 * only another 0.5% (51.03 MB) at 2.5 times the CPU (26 MB/s). With the JDK's zlib fallback, level
 * 6 is still 1.5% smaller than the reference at 9 and about twice as fast (18 MB/s), again within
 * 0.5% of zlib's level 9 (10.5 MB/s). Conversion runs on the first pull of an image, where CPU time
 * is latency; half a percent of bytes is not worth it. The numbers are in bench/estargz/README.md.
 *
 * @param level gzip level of the payload and TOC members, 1 (fastest) to 9 (smallest)
 * @param chunkSize bytes of a regular file per gzip member (the TOC's chunk size); 4 MiB is the
 *     reference's default (docs/formats.md "Defaults"). Bounds memory: at most {@code 2 × threads}
 *     members, each about one chunk, are in flight
 * @param prioritizedFiles files to put first in the layer, before {@code .prefetch.landmark}, so a
 *     lazy puller prefetches them (stargz-snapshotter docs/estargz.md "Prioritized Files and
 *     Landmark Files"); names as in the tar, cleaned ({@code ./bin/sh} is {@code bin/sh}). Empty
 *     for none. A non-empty list makes the transcoder spool the layer's tar to a temporary file
 * @param threads threads compressing members for one layer; the output does not depend on it
 */
public record EstargzOptions(int level, int chunkSize, List<String> prioritizedFiles, int threads) {

  /** The level of {@link #defaults()}. */
  public static final int DEFAULT_LEVEL = 6;

  /** The reference's chunk size, 4 MiB. */
  public static final int DEFAULT_CHUNK_SIZE = 4 << 20;

  /** The largest chunk size accepted: members are held in memory while being compressed. */
  public static final int MAX_CHUNK_SIZE = 64 << 20;

  public EstargzOptions {
    if (level < 1 || level > 9) {
      throw new IllegalArgumentException("gzip level must be 1..9, got " + level);
    }
    if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
      throw new IllegalArgumentException(
          "eStargz chunk size must be 1.." + MAX_CHUNK_SIZE + " bytes, got " + chunkSize);
    }
    if (threads < 1) {
      throw new IllegalArgumentException("eStargz threads must be at least 1, got " + threads);
    }
    prioritizedFiles = prioritizedFiles == null ? List.of() : List.copyOf(prioritizedFiles);
  }

  /** Level {@value #DEFAULT_LEVEL}, 4 MiB chunks, nothing prioritized, one thread per processor. */
  public static EstargzOptions defaults() {
    return new EstargzOptions(
        DEFAULT_LEVEL,
        DEFAULT_CHUNK_SIZE,
        List.of(),
        Math.max(1, Runtime.getRuntime().availableProcessors()));
  }

  /** These options with another thread count. */
  public EstargzOptions withThreads(int newThreads) {
    return new EstargzOptions(level, chunkSize, prioritizedFiles, newThreads);
  }

  /** These options with other prioritized files. */
  public EstargzOptions withPrioritizedFiles(List<String> files) {
    return new EstargzOptions(level, chunkSize, files, threads);
  }

  /**
   * A stable name for everything that decides the output bytes, e.g. {@code
   * estargz1-libdeflate-l9-c4194304} or, with prioritized files, {@code ...-p} and 16 hex digits of
   * the sha256 of the list: the writer's format version, the DEFLATE backend this JVM uses (see
   * {@link DeflateBackend}), the level, the chunk size and the prioritized list. Two conversions
   * with the same key (and the same backend library version) write the same bytes. The thread count
   * is absent because it never changes the output.
   */
  public String settingsKey() {
    return settingsKey(DeflateBackend.preferred());
  }

  String settingsKey(DeflateBackend backend) {
    StringBuilder key =
        new StringBuilder("estargz1-")
            .append(backend.id())
            .append("-l")
            .append(level)
            .append("-c")
            .append(chunkSize);
    if (!prioritizedFiles.isEmpty()) {
      byte[] list = (String.join("\n", prioritizedFiles) + "\n").getBytes(StandardCharsets.UTF_8);
      key.append("-p").append(Digest.sha256(list).encoded(), 0, 16);
    }
    return key.toString();
  }
}
