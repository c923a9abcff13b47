package io.transship.converter;

import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A layer's tar entries copied to a temporary file, so they can be written in another order than
 * they were read (prioritized files first). Keeps each entry's parsed fields in memory and its raw
 * header and payload on disk: memory grows with the number of entries, not with their size. The
 * file is deleted on {@link #close()}.
 */
final class SpooledTar implements AutoCloseable {

  /** One spooled entry: its fields (without the raw header) and where its bytes are. */
  record Spooled(RawTarEntry fields, long position, int headerLength) {}

  private final Path file;
  private final FileChannel channel;
  private final List<Spooled> entries;

  private SpooledTar(Path file, FileChannel channel, List<Spooled> entries) {
    this.file = file;
    this.channel = channel;
    this.entries = Collections.unmodifiableList(entries);
  }

  /**
   * Reads the whole tar into a new file under {@code directory}, leaving out the reserved eStargz
   * names and recording every kept entry in {@code names}.
   */
  static SpooledTar spool(RawTarReader reader, Path directory, LayerNames names)
      throws IOException {
    Path file = Files.createTempFile(directory, "estargz-", ".tar");
    try {
      List<Spooled> entries = new ArrayList<>();
      byte[] buffer = new byte[64 * 1024];
      long position = 0;
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 256 * 1024)) {
        for (RawTarEntry entry = reader.next(); entry != null; entry = reader.next()) {
          if (EstargzFormat.isReserved(entry.cleanName())) {
            continue;
          }
          names.add(entry);
          byte[] header = entry.rawHeader();
          out.write(header);
          entries.add(new Spooled(entry.withRawHeader(new byte[0]), position, header.length));
          position += header.length;
          long left = reader.remaining();
          position += left;
          while (left > 0) {
            int piece = (int) Math.min(buffer.length, left);
            reader.readFully(buffer, 0, piece);
            out.write(buffer, 0, piece);
            left -= piece;
          }
        }
      }
      return new SpooledTar(file, FileChannel.open(file, StandardOpenOption.READ), entries);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(file);
      throw e;
    }
  }

  /** The entries in their original order. */
  List<Spooled> entries() {
    return entries;
  }

  /** The entry with its raw header read back from the file. */
  RawTarEntry entry(Spooled spooled) throws IOException {
    byte[] header = new byte[spooled.headerLength()];
    readAt(spooled.position(), header, 0, header.length);
    return spooled.fields().withRawHeader(header);
  }

  /** The payload and padding of a spooled entry, read sequentially from the file. */
  EntryPayload payload(Spooled spooled) {
    return new EntryPayload() {
      private long position = spooled.position() + spooled.headerLength();

      @Override
      public void readFully(byte[] buffer, int offset, int length) throws IOException {
        readAt(position, buffer, offset, length);
        position += length;
      }

      @Override
      public void skip(long length) {
        position += length;
      }
    };
  }

  private void readAt(long position, byte[] buffer, int offset, int length) throws IOException {
    ByteBuffer target = ByteBuffer.wrap(buffer, offset, length);
    long at = position;
    while (target.hasRemaining()) {
      int n = channel.read(target, at);
      if (n < 0) {
        throw new EOFException("spool file shorter than expected");
      }
      at += n;
    }
  }

  @Override
  public void close() throws IOException {
    try {
      channel.close();
    } finally {
      Files.deleteIfExists(file);
    }
  }
}
