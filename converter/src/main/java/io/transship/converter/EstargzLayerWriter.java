package io.transship.converter;

import io.transship.converter.RawTarEntry.Kind;
import io.transship.oci.Digest;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Lays tar entries out as eStargz (docs/formats.md "Layout"; stargz-snapshotter docs/estargz.md):
 * the tar bytes go, unchanged and in order, into a run of gzip members, and a new member begins
 * right before each chunk of a non-empty regular file, so that the chunk's compressed offset is a
 * member boundary whose first decompressed byte is the chunk's first byte. Tar padding and the
 * headers that follow go into the member holding the preceding payload. No end-of-archive blocks
 * follow the entries; {@link #finish()} appends the TOC member ({@code stargz.index.json} and two
 * zero blocks) and the footer.
 *
 * <p>Members are cut here and compressed by the {@link MemberPipeline}; this class also hashes the
 * uncompressed stream (the new diff_id), each chunk and each file, and builds the TOC. A member
 * holds at most one chunk plus the headers up to the next chunk: its size is bounded by the chunk
 * size, except after a long run of header-only entries (directories, links, empty files), whose
 * headers all share one member — as much memory as their TOC entries take anyway.
 */
final class EstargzLayerWriter {

  /** What {@link #finish()} wrote. */
  record Finished(Digest tocDigest, long tocOffset, Digest diffId, long uncompressedSize) {}

  /** A new member's initial buffer; one about to take a chunk is sized for it at once. */
  private static final int SMALL_SEGMENT = 16 * 1024;

  /** Room left after a chunk for its padding and the next few headers. */
  private static final int CHUNK_SLACK = 8 * 1024;

  private static final byte[] END_OF_ARCHIVE = new byte[2 * RawTarReader.BLOCK];

  private final MemberPipeline pipeline;
  private final int chunkSize;
  private final MessageDigest diffId = Digest.newSha256();
  private final java.util.List<TocEntry> pendingChunkDigests = new java.util.ArrayList<>();
  private final java.util.List<TocEntry> pendingFileDigests = new java.util.ArrayList<>();
  private int segmentHashedPrefix;
  private final MessageDigest fileHash = Digest.newSha256();
  private final List<TocEntry> toc = new ArrayList<>();
  private final Map<Long, String> lastUserName = new HashMap<>();
  private final Map<Long, String> lastGroupName = new HashMap<>();
  private long uncompressedSize;
  private byte[] segment = new byte[SMALL_SEGMENT];
  private int segmentLength;

  EstargzLayerWriter(MemberPipeline pipeline, int chunkSize) {
    this.pipeline = pipeline;
    this.chunkSize = chunkSize;
  }

  /** A landmark: a one-byte regular file, header with only name, type and size. */
  void landmark(String name) throws IOException {
    append(EstargzFormat.regularFileHeader(name, 1), 0, RawTarReader.BLOCK);
    TocEntry entry = new TocEntry(name, Kind.REG.tocType());
    entry.size = 1;
    byte[] content = {EstargzFormat.LANDMARK_CONTENT};
    startMember(entry);
    append(content, 0, 1);
    entry.chunkDigest = Digest.sha256(content).toString();
    entry.digest = entry.chunkDigest;
    toc.add(entry);
    append(new byte[RawTarReader.BLOCK - 1], 0, RawTarReader.BLOCK - 1);
  }

  /** Copies one entry: its raw header blocks, then its payload and padding from {@code payload}. */
  void entry(RawTarEntry e, EntryPayload payload) throws IOException {
    append(e.rawHeader(), 0, e.rawHeader().length);
    TocEntry entry = tocEntry(e);
    if (e.kind() == Kind.REG && e.payloadSize() > 0) {
      copyChunks(e, entry, payload);
    } else {
      toc.add(entry);
      if (e.payloadSize() > 0) {
        copy(payload, e.payloadSize());
      }
    }
    copy(payload, e.paddingSize());
  }

  private TocEntry tocEntry(RawTarEntry e) throws IOException {
    TocEntry entry = new TocEntry(e.name(), e.kind().tocType());
    if (e.kind() == Kind.REG) {
      entry.size = e.size();
    }
    entry.modtime = TocJson.modtime(e.mtimeSeconds(), e.mtimeNanos());
    if (e.kind() == Kind.HARDLINK || e.kind() == Kind.SYMLINK) {
      entry.linkName = e.linkName();
    }
    entry.mode = e.mode();
    entry.uid = e.uid();
    entry.gid = e.gid();
    entry.userName = nameIfChanged(lastUserName, e.uid(), e.userName());
    entry.groupName = nameIfChanged(lastGroupName, e.gid(), e.groupName());
    if (e.kind() == Kind.CHAR || e.kind() == Kind.BLOCK) {
      entry.devMajor = e.devMajor();
      entry.devMinor = e.devMinor();
    }
    entry.xattrs = e.xattrs();
    return entry;
  }

  /**
   * A user or group name only where it differs from the last one given for that id, as the
   * reference writes them; readers carry the last name forward.
   */
  private static String nameIfChanged(Map<Long, String> last, long id, String name) {
    if (name.isEmpty() || name.equals(last.get(id))) {
      return "";
    }
    last.put(id, name);
    return name;
  }

  /**
   * The file's data, chunk by chunk, each in a new member. The first chunk is described by the
   * {@code reg} entry itself, the others by {@code chunk} entries. {@code chunkSize} is set on
   * every full-size chunk and left out (0: "to the end of the file") on a shorter last one.
   */
  private void copyChunks(RawTarEntry e, TocEntry reg, EntryPayload payload) throws IOException {
    long size = e.payloadSize();
    boolean chunked = size > chunkSize;
    if (chunked) {
      fileHash.reset();
    }
    TocEntry current = reg;
    long done = 0;
    while (done < size) {
      int length = (int) Math.min(chunkSize, size - done);
      startMember(current);
      current.chunkOffset = done;
      if (length == chunkSize) {
        current.chunkSize = length;
      }
      int start = segmentLength; // 0: startMember flushed the previous member
      ensureRoom(length + CHUNK_SLACK);
      readInto(payload, length);
      segmentHashedPrefix = length; // the chunk digest is computed on the compressing thread
      pendingChunkDigests.add(current);
      if (chunked) {
        fileHash.update(segment, start, length);
      }
      toc.add(current);
      done += length;
      current = new TocEntry(e.name(), "chunk");
    }
    if (chunked) {
      reg.digest = Digest.ofSha256(fileHash.digest()).toString();
    } else {
      pendingFileDigests.add(reg); // one chunk: the file digest is its chunk digest
    }
  }

  /** Closes the current member and records that {@code entry}'s data starts the next one. */
  private void startMember(TocEntry entry) throws IOException {
    flushSegment();
    entry.member = pipeline.nextIndex();
  }

  /**
   * Appends the TOC member and the footer.
   *
   * @return the TOC digest, the TOC's offset, the new diff_id and the uncompressed size
   */
  Finished finish() throws IOException {
    flushSegment();
    pipeline.drain();
    for (TocEntry entry : pendingChunkDigests) {
      entry.chunkDigest = Digest.ofSha256(pipeline.prefixDigestOf(entry.member)).toString();
    }
    for (TocEntry entry : pendingFileDigests) {
      entry.digest = entry.chunkDigest;
    }
    byte[] json = TocJson.write(toc, pipeline::offsetOf);
    Digest tocDigest = Digest.sha256(json);
    int padding = RawTarReader.padding(json.length);
    byte[] tocTar = new byte[RawTarReader.BLOCK + json.length + padding + END_OF_ARCHIVE.length];
    System.arraycopy(
        EstargzFormat.regularFileHeader(EstargzFormat.TOC_NAME, json.length),
        0,
        tocTar,
        0,
        RawTarReader.BLOCK);
    System.arraycopy(json, 0, tocTar, RawTarReader.BLOCK, json.length);
    diffId.update(tocTar);
    uncompressedSize += tocTar.length;
    long tocOffset = pipeline.position();
    pipeline.submit(tocTar, tocTar.length);
    pipeline.drain();
    pipeline.writeRaw(EstargzFormat.footer(tocOffset));
    return new Finished(tocDigest, tocOffset, Digest.ofSha256(diffId.digest()), uncompressedSize);
  }

  private void flushSegment() throws IOException {
    if (segmentLength == 0) {
      return;
    }
    byte[] full = segment;
    int length = segmentLength;
    int hashed = segmentHashedPrefix;
    segment = new byte[SMALL_SEGMENT];
    segmentLength = 0;
    segmentHashedPrefix = 0;
    pipeline.submit(full, length, hashed);
  }

  private void append(byte[] bytes, int offset, int length) {
    ensureRoom(length);
    System.arraycopy(bytes, offset, segment, segmentLength, length);
    diffId.update(bytes, offset, length);
    segmentLength += length;
    uncompressedSize += length;
  }

  private void copy(EntryPayload payload, long length) throws IOException {
    long left = length;
    while (left > 0) {
      int piece = (int) Math.min(left, 1 << 20);
      readInto(payload, piece);
      left -= piece;
    }
  }

  /** Reads {@code length} bytes from the payload straight into the current member. */
  private void readInto(EntryPayload payload, int length) throws IOException {
    ensureRoom(length);
    payload.readFully(segment, segmentLength, length);
    diffId.update(segment, segmentLength, length);
    segmentLength += length;
    uncompressedSize += length;
  }

  private void ensureRoom(int length) {
    long needed = (long) segmentLength + length;
    if (needed > segment.length) {
      if (needed > Integer.MAX_VALUE - 16) {
        throw new IllegalStateException("gzip member larger than 2 GiB");
      }
      byte[] bigger =
          pipeline.buffer(
              (int) Math.min(Integer.MAX_VALUE - 16, Math.max(needed, 2L * segment.length)));
      System.arraycopy(segment, 0, bigger, 0, segmentLength);
      segment = bigger;
    }
  }
}
