package io.transship.converter;

import io.transship.oci.Digest;
import io.transship.oci.MediaTypes;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes a layer as eStargz: a gzip-compressed tar that lazy pullers (stargz-snapshotter,
 * containers/storage) can read file by file through its TOC, and that every other client unpacks as
 * the ordinary {@code tar+gzip} it still is (stargz-snapshotter docs/estargz.md; the facts this
 * implements are in docs/formats.md "eStargz").
 *
 * <p>Byte-faithful: the source tar's header blocks — PAX and GNU long-name extension headers
 * included — and payload bytes are copied verbatim and only regrouped into gzip members, so
 * sub-second PAX mtimes, xattrs, long names, hardlinks, devices, fifos, whiteouts and empty files
 * come out exactly as they went in. The decompressed blob is the source tar without its
 * end-of-archive blocks, with a landmark entry in front (and prioritized files moved before it) and
 * the TOC entry at the end, so its diff_id is new ({@link TranscodeResult#diffId()}); the config's
 * {@code rootfs.diff_ids} must be rewritten.
 *
 * <p>Refused with {@link UnsupportedLayerException}, so that the caller keeps the layer as it is:
 * PAX global headers, sparse files, entry types other than files, directories, links, devices and
 * fifos, names that are not UTF-8, a name that appears twice, hardlinks to files outside the layer.
 *
 * <p>Deterministic: gzip members have fixed headers and are compressed independently with fixed
 * settings, so the blob depends only on the source and {@link EstargzOptions#settingsKey()}, never
 * on the thread count. {@code threads} workers compress while the calling thread reads, hashes and
 * cuts the tar. Memory is bounded by the chunk size times {@code 2 × threads} plus the TOC (see
 * {@link EstargzLayerWriter}), and member buffers are reused, so neither live memory nor the heap
 * the JVM grows to depends on the layer's size (a 4 GiB layer was measured at the RSS of a 512 MiB
 * one); the TOC grows with the entry count, which {@link InflationLimits} bounds. With prioritized
 * files the tar is spooled to a temporary file first. Instances are immutable and may be shared
 * between threads.
 */
public final class EstargzTranscoder implements LayerTranscoder {

  /** eStargz layers keep the gzip layer media type. */
  public static final String MEDIA_TYPE = MediaTypes.OCI_LAYER_GZIP;

  /** Descriptor annotation: sha256 of the TOC JSON. */
  public static final String TOC_DIGEST_ANNOTATION = LayerRules.ESTARGZ_TOC_ANNOTATION;

  /** Descriptor annotation: decimal size of the whole decompressed blob. */
  public static final String UNCOMPRESSED_SIZE_ANNOTATION =
      "io.containers.estargz.uncompressed-size";

  private static final int TAR_BUFFER = 256 * 1024;

  private final EstargzOptions options;
  private final Path spoolDirectory;
  private final DeflateBackend backend;
  private final InflationLimits limits;

  /** Spools (only when files are prioritized) to {@code java.io.tmpdir}. */
  public EstargzTranscoder(EstargzOptions options) {
    this(options, Path.of(System.getProperty("java.io.tmpdir")));
  }

  /**
   * @param spoolDirectory where the tar of a layer with prioritized files is spooled
   */
  public EstargzTranscoder(EstargzOptions options, Path spoolDirectory) {
    this(options, spoolDirectory, DeflateBackend.preferred());
  }

  /**
   * @param limits checked while the source is read; a layer over one fails with {@link
   *     LayerLimitException} as soon as it is (they never change the output)
   */
  public EstargzTranscoder(EstargzOptions options, Path spoolDirectory, InflationLimits limits) {
    this(options, spoolDirectory, DeflateBackend.preferred(), limits);
  }

  EstargzTranscoder(EstargzOptions options, Path spoolDirectory, DeflateBackend backend) {
    this(options, spoolDirectory, backend, InflationLimits.none());
  }

  EstargzTranscoder(
      EstargzOptions options, Path spoolDirectory, DeflateBackend backend, InflationLimits limits) {
    this.limits = Objects.requireNonNull(limits, "limits");
    this.options = Objects.requireNonNull(options, "options");
    this.spoolDirectory = Objects.requireNonNull(spoolDirectory, "spoolDirectory");
    this.backend = Objects.requireNonNull(backend, "backend");
    if (!backend.available()) {
      throw new IllegalArgumentException(backend.id() + " is not available on this machine");
    }
  }

  /** The settings this transcoder was built with. */
  public EstargzOptions options() {
    return options;
  }

  /** The key of the bytes this transcoder writes; see {@link EstargzOptions#settingsKey()}. */
  public String settingsKey() {
    return options.settingsKey(backend);
  }

  @Override
  public TranscodeResult transcode(
      InputStream source,
      SourceCompression sourceCompression,
      Digest expectedDiffId,
      OutputStream out)
      throws IOException {
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(sourceCompression, "sourceCompression");
    Objects.requireNonNull(out, "out");

    MessageDigest sourceSha256 = Digest.newSha256();
    MessageDigest otherCheck =
        expectedDiffId == null || "sha256".equals(expectedDiffId.algorithm())
            ? null
            : expectedDiffId.newHasher();
    DigestingOutputStream blob = new DigestingOutputStream(out);
    EstargzLayerWriter.Finished finished;
    Digest sourceDiffId;

    InputStream caller = new NonClosingInputStream(source);
    try (InputStream tar =
            new BufferedInputStream(
                new HashingInputStream(
                    InflationGuard.open(caller, sourceCompression, limits),
                    sourceSha256,
                    otherCheck),
                TAR_BUFFER);
        MemberPipeline pipeline =
            new MemberPipeline(backend, options.level(), options.threads(), blob)) {
      RawTarReader reader = new RawTarReader(tar);
      EstargzLayerWriter writer = new EstargzLayerWriter(pipeline, options.chunkSize());
      LayerNames names = new LayerNames();
      if (options.prioritizedFiles().isEmpty()) {
        writer.landmark(EstargzFormat.NO_PREFETCH_LANDMARK);
        for (RawTarEntry entry = reader.next(); entry != null; entry = reader.next()) {
          if (!EstargzFormat.isReserved(entry.cleanName())) {
            names.add(entry);
            writer.entry(entry, reader);
          }
        }
        names.checkHardlinks();
        sourceDiffId = finishSource(tar, expectedDiffId, sourceSha256, otherCheck);
      } else {
        try (SpooledTar spool = SpooledTar.spool(reader, spoolDirectory, names)) {
          names.checkHardlinks();
          sourceDiffId = finishSource(tar, expectedDiffId, sourceSha256, otherCheck);
          writeReordered(spool, writer);
        }
      }
      finished = writer.finish();
    }

    return new TranscodeResult(
        MEDIA_TYPE,
        blob.digest(),
        blob.count(),
        finished.diffId(),
        sourceDiffId,
        finished.uncompressedSize(),
        Map.of(
            TOC_DIGEST_ANNOTATION,
            finished.tocDigest().toString(),
            UNCOMPRESSED_SIZE_ANNOTATION,
            Long.toString(finished.uncompressedSize())));
  }

  /**
   * Prioritized files (and what they need before them) first, then {@code .prefetch.landmark}, then
   * the rest in their original order; a layer holding none of the files is written as if nothing
   * were prioritized, with {@code .no.prefetch.landmark} first.
   */
  private void writeReordered(SpooledTar spool, EstargzLayerWriter writer) throws IOException {
    List<SpooledTar.Spooled> entries = spool.entries();
    List<Integer> first =
        PrioritizedOrder.of(
            entries.stream().map(SpooledTar.Spooled::fields).toList(), options.prioritizedFiles());
    boolean[] moved = new boolean[entries.size()];
    if (first.isEmpty()) {
      writer.landmark(EstargzFormat.NO_PREFETCH_LANDMARK);
    } else {
      for (int index : first) {
        moved[index] = true;
        SpooledTar.Spooled spooled = entries.get(index);
        writer.entry(spool.entry(spooled), spool.payload(spooled));
      }
      writer.landmark(EstargzFormat.PREFETCH_LANDMARK);
    }
    for (int i = 0; i < entries.size(); i++) {
      if (!moved[i]) {
        SpooledTar.Spooled spooled = entries.get(i);
        writer.entry(spool.entry(spooled), spool.payload(spooled));
      }
    }
  }

  /**
   * Reads what follows the end-of-archive marker (zero padding, usually) to the end of the source,
   * so the source diff_id covers the whole decompressed stream, and checks it against the config's.
   *
   * @return the source diff_id
   */
  private static Digest finishSource(
      InputStream tar, Digest expectedDiffId, MessageDigest sourceSha256, MessageDigest otherCheck)
      throws IOException {
    tar.transferTo(OutputStream.nullOutputStream());
    Digest actual = Digest.ofSha256(sourceSha256.digest());
    if (expectedDiffId != null) {
      boolean matches =
          otherCheck == null
              ? expectedDiffId.equals(actual)
              : expectedDiffId.matches(otherCheck.digest());
      if (!matches) {
        throw new DiffIdMismatchException(expectedDiffId, actual);
      }
    }
    return actual;
  }

  /** Lets the decompressor be closed (freeing its native inflater) without closing the caller's. */
  private static final class NonClosingInputStream extends FilterInputStream {
    NonClosingInputStream(InputStream in) {
      super(in);
    }

    @Override
    public void close() {
      // the caller owns the source
    }
  }
}
