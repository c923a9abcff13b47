package io.transship.converter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * An eStargz blob taken apart independently of the writer: its gzip members (parsed and inflated
 * one by one with their CRC and size checked), the decompressed stream, the footer and the TOC.
 */
final class EstargzBlob {

  /** One gzip member: where it starts in the blob and in the decompressed stream. */
  record Member(long offset, long length, long uncompressedOffset, int uncompressedLength) {}

  final byte[] blob;
  final List<Member> members = new ArrayList<>();
  final byte[] decompressed;
  final long tocOffset;
  final byte[] tocJson;
  final JsonNode toc;

  EstargzBlob(byte[] blob) throws IOException {
    this.blob = blob;
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    long at = 0;
    while (at < blob.length) {
      byte[] data = inflateMember(blob, (int) at, members, all.size());
      all.writeBytes(data);
      Member last = members.get(members.size() - 1);
      at = last.offset() + last.length();
    }
    this.decompressed = all.toByteArray();
    byte[] footer = Arrays.copyOfRange(blob, blob.length - 51, blob.length);
    this.tocOffset = Long.parseLong(new String(footer, 16, 16, StandardCharsets.US_ASCII), 16);
    byte[] tocTar = inflate(tocOffset);
    int size = (int) TarFields.octal(tocTar, 124, 12);
    this.tocJson = Arrays.copyOfRange(tocTar, 512, 512 + size);
    this.toc = new ObjectMapper().readTree(tocJson);
  }

  /** The decompressed bytes of the single member starting at {@code offset}. */
  byte[] inflate(long offset) throws IOException {
    return inflateMember(blob, (int) offset, new ArrayList<>(), 0);
  }

  /** The member starting exactly at {@code offset}, or null if none does. */
  Member memberAt(long offset) {
    for (Member m : members) {
      if (m.offset() == offset) {
        return m;
      }
    }
    return null;
  }

  List<JsonNode> entries() {
    List<JsonNode> list = new ArrayList<>();
    toc.path("entries").forEach(list::add);
    return list;
  }

  private static byte[] inflateMember(byte[] blob, int start, List<Member> out, long uncompressedAt)
      throws IOException {
    if ((blob[start] & 0xff) != 0x1f || (blob[start + 1] & 0xff) != 0x8b || blob[start + 2] != 8) {
      throw new IOException("no gzip member at " + start);
    }
    int flags = blob[start + 3];
    int p = start + 10;
    if ((flags & 4) != 0) {
      int xlen = (blob[p] & 0xff) | (blob[p + 1] & 0xff) << 8;
      p += 2 + xlen;
    }
    if ((flags & 8) != 0) {
      while (blob[p++] != 0) {}
    }
    if ((flags & 16) != 0) {
      while (blob[p++] != 0) {}
    }
    if ((flags & 2) != 0) {
      p += 2;
    }
    Inflater inflater = new Inflater(true);
    try {
      inflater.setInput(blob, p, blob.length - p);
      ByteArrayOutputStream data = new ByteArrayOutputStream();
      byte[] buffer = new byte[64 * 1024];
      while (!inflater.finished()) {
        int n = inflater.inflate(buffer);
        if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
          throw new IOException("truncated member at " + start);
        }
        data.write(buffer, 0, n);
      }
      int end = blob.length - inflater.getRemaining();
      byte[] bytes = data.toByteArray();
      CRC32 crc = new CRC32();
      crc.update(bytes);
      long storedCrc = le32(blob, end);
      long storedSize = le32(blob, end + 4);
      if (storedCrc != crc.getValue() || storedSize != (bytes.length & 0xffffffffL)) {
        throw new IOException("bad gzip trailer of member at " + start);
      }
      out.add(new Member(start, end + 8 - start, uncompressedAt, bytes.length));
      return bytes;
    } catch (DataFormatException e) {
      throw new IOException(e);
    } finally {
      inflater.end();
    }
  }

  private static long le32(byte[] b, int at) {
    return (b[at] & 0xffL)
        | (b[at + 1] & 0xffL) << 8
        | (b[at + 2] & 0xffL) << 16
        | (b[at + 3] & 0xffL) << 24;
  }
}
