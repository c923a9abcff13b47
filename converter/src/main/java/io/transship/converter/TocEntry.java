package io.transship.converter;

import java.util.Collections;
import java.util.SortedMap;

/**
 * One entry of an eStargz TOC ({@code stargz.index.json}, stargz-snapshotter docs/estargz.md "TOC,
 * TOCEntries and Chunks"; docs/formats.md "TOC JSON"). Zero numbers and empty strings are left out
 * of the JSON, as the reference's {@code omitempty} does. The compressed {@code offset} is not
 * known while the entry is built (its gzip member may still be compressing), so the entry keeps the
 * index of its member and {@link TocJson} resolves it.
 */
final class TocEntry {
  static final int NO_MEMBER = -1;

  final String name;
  final String type;
  long size;
  String modtime = "";
  String linkName = "";
  long mode;
  long uid;
  long gid;
  String userName = "";
  String groupName = "";
  long devMajor;
  long devMinor;
  SortedMap<String, byte[]> xattrs = Collections.emptySortedMap();
  String digest = "";

  /** Index of the gzip member that starts with this entry's chunk, or {@link #NO_MEMBER}. */
  int member = NO_MEMBER;

  long chunkOffset;
  long chunkSize;
  String chunkDigest = "";

  TocEntry(String name, String type) {
    this.name = name;
    this.type = type;
  }
}
