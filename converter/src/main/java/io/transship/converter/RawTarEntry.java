package io.transship.converter;

import java.util.SortedMap;

/**
 * One tar entry exactly as it was in its stream, plus the fields an eStargz TOC needs, read the way
 * Go's {@code archive/tar} reads them (the reader of containerd, the stargz-snapshotter and the
 * reference estargz writer, so that the TOC says what those readers will see).
 *
 * @param rawHeader the entry's header blocks verbatim: any PAX ({@code x}) and GNU long name/link
 *     ({@code L}, {@code K}) extension headers with their data and padding, then the entry's own
 *     512-byte header block
 * @param name the entry's name: PAX {@code path}, else the GNU long name, else the USTAR {@code
 *     prefix/name} (or the plain name); not cleaned
 * @param cleanName {@code name} cleaned as the estargz library cleans it (see {@link
 *     TarNames#clean(String)})
 * @param kind what the entry is
 * @param size the header's (or PAX) size; payload bytes for regular files
 * @param linkName symlink target or hardlink source, empty if none
 * @param mode the raw mode field
 * @param uid owner id
 * @param gid group id
 * @param userName owner name, empty if none
 * @param groupName group name, empty if none
 * @param mtimeSeconds modification time, seconds since the epoch (floor)
 * @param mtimeNanos sub-second part of the modification time, 0..999,999,999
 * @param devMajor device major number (character and block devices)
 * @param devMinor device minor number
 * @param xattrs extended attributes from the PAX {@code SCHILY.xattr.*} records, raw values
 * @param payloadSize bytes of data following the header (0 for header-only types)
 * @param paddingSize zero bytes after the data up to the next 512-byte boundary
 */
record RawTarEntry(
    byte[] rawHeader,
    String name,
    String cleanName,
    Kind kind,
    long size,
    String linkName,
    long mode,
    long uid,
    long gid,
    String userName,
    String groupName,
    long mtimeSeconds,
    int mtimeNanos,
    long devMajor,
    long devMinor,
    SortedMap<String, byte[]> xattrs,
    long payloadSize,
    int paddingSize) {

  /** This entry with other header bytes (a spool keeps headers on disk, not in memory). */
  RawTarEntry withRawHeader(byte[] header) {
    return new RawTarEntry(
        header,
        name,
        cleanName,
        kind,
        size,
        linkName,
        mode,
        uid,
        gid,
        userName,
        groupName,
        mtimeSeconds,
        mtimeNanos,
        devMajor,
        devMinor,
        xattrs,
        payloadSize,
        paddingSize);
  }

  /** The entry types an eStargz TOC can describe, with their TOC {@code type} names. */
  enum Kind {
    REG("reg"),
    DIR("dir"),
    SYMLINK("symlink"),
    HARDLINK("hardlink"),
    CHAR("char"),
    BLOCK("block"),
    FIFO("fifo");

    private final String tocType;

    Kind(String tocType) {
      this.tocType = tocType;
    }

    /** The TOC {@code type} of this kind of entry. */
    String tocType() {
      return tocType;
    }
  }
}
