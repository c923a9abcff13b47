package io.transship.converter;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/**
 * Writes tar streams header block by header block, so tests control every byte: USTAR and GNU
 * headers, PAX extended headers (long names, sub-second mtimes, xattrs), GNU {@code L}/{@code K}
 * long names, and the types a layer holds (files, dirs, symlinks, hardlinks, fifos, devices,
 * whiteouts).
 */
final class EstargzFixtures {

  static final long MTIME = 1_714_564_800L; // 2024-05-01T12:00:00Z

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  /** One entry's header fields; defaults make a root-owned 0644 regular file. */
  static final class Header {
    String name;
    byte type = '0';
    long mode = 0644;
    long uid;
    long gid;
    String userName = "root";
    String groupName = "root";
    long size;
    long mtime = MTIME;
    String linkName = "";
    long devMajor;
    long devMinor;
    boolean gnu;

    Header(String name) {
      this.name = name;
    }
  }

  /** A regular file. */
  EstargzFixtures file(String name, byte[] content) {
    Header h = new Header(name);
    h.size = content.length;
    return entry(h, content);
  }

  /** A directory. */
  EstargzFixtures dir(String name) {
    Header h = new Header(name);
    h.type = '5';
    h.mode = 0755;
    return entry(h, new byte[0]);
  }

  /** A symlink. */
  EstargzFixtures symlink(String name, String target) {
    Header h = new Header(name);
    h.type = '2';
    h.mode = 0777;
    h.linkName = target;
    return entry(h, new byte[0]);
  }

  /** A hardlink. */
  EstargzFixtures hardlink(String name, String target) {
    Header h = new Header(name);
    h.type = '1';
    h.linkName = target;
    return entry(h, new byte[0]);
  }

  /** A fifo. */
  EstargzFixtures fifo(String name) {
    Header h = new Header(name);
    h.type = '6';
    return entry(h, new byte[0]);
  }

  /** A character device. */
  EstargzFixtures charDevice(String name, int major, int minor) {
    Header h = new Header(name);
    h.type = '3';
    h.mode = 0666;
    h.devMajor = major;
    h.devMinor = minor;
    return entry(h, new byte[0]);
  }

  /** An entry with the given header and content (size taken from the header). */
  EstargzFixtures entry(Header h, byte[] content) {
    out.writeBytes(block(h));
    out.writeBytes(content);
    pad(content.length);
    return this;
  }

  /** A PAX extended header ({@code x}, or {@code g} for global) with these records. */
  EstargzFixtures pax(byte type, Map<String, byte[]> records) {
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    for (Map.Entry<String, byte[]> r : records.entrySet()) {
      byte[] key = r.getKey().getBytes(StandardCharsets.UTF_8);
      int body = 1 + key.length + 1 + r.getValue().length + 1; // ' ' key '=' value '\n'
      int length = body + Integer.toString(body).length();
      if (Integer.toString(length).length() != Integer.toString(body).length()) {
        length++;
      }
      data.writeBytes((length + " ").getBytes(StandardCharsets.US_ASCII));
      data.writeBytes(key);
      data.write('=');
      data.writeBytes(r.getValue());
      data.write('\n');
    }
    Header h = new Header("./PaxHeaders/x");
    h.type = type;
    h.size = data.size();
    h.userName = "";
    h.groupName = "";
    return entry(h, data.toByteArray());
  }

  /** A GNU long name ({@code L}) or long link ({@code K}) header for the next entry. */
  EstargzFixtures gnuLong(byte type, String value) {
    byte[] data = (value + "\0").getBytes(StandardCharsets.UTF_8);
    Header h = new Header("././@LongLink");
    h.type = type;
    h.size = data.length;
    h.gnu = true;
    h.mode = 0;
    return entry(h, data);
  }

  /** The bytes so far plus two zero blocks and zero padding to a 10 KiB record, as GNU tar ends. */
  byte[] finish() {
    out.writeBytes(new byte[1024]);
    int record = 10240;
    int rest = out.size() % record;
    if (rest != 0) {
      out.writeBytes(new byte[record - rest]);
    }
    return out.toByteArray();
  }

  /** The bytes so far, without end-of-archive blocks. */
  byte[] bytesWithoutEnd() {
    return out.toByteArray();
  }

  private void pad(long size) {
    int padding = (int) ((512 - size % 512) % 512);
    out.writeBytes(new byte[padding]);
  }

  static Map<String, byte[]> records(String... keyValues) {
    Map<String, byte[]> records = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      records.put(keyValues[i], keyValues[i + 1].getBytes(StandardCharsets.UTF_8));
    }
    return records;
  }

  static byte[] block(Header h) {
    byte[] b = new byte[512];
    byte[] name = h.name.getBytes(StandardCharsets.UTF_8);
    if (name.length > 100) {
      // USTAR prefix/name split at a slash
      int split = -1;
      for (int i = name.length - 2; i > 0; i--) {
        if (name[i] == '/' && i <= 155 && name.length - i - 1 <= 100) {
          split = i;
          break;
        }
      }
      if (split < 0 || h.gnu) {
        System.arraycopy(name, 0, b, 0, 100); // truncated; a long-name header carries the rest
      } else {
        System.arraycopy(name, split + 1, b, 0, name.length - split - 1);
        System.arraycopy(name, 0, b, 345, split);
      }
    } else {
      System.arraycopy(name, 0, b, 0, name.length);
    }
    octal(b, 100, 8, h.mode);
    octal(b, 108, 8, h.uid);
    octal(b, 116, 8, h.gid);
    octal(b, 124, 12, h.size);
    octal(b, 136, 12, h.mtime);
    b[156] = h.type;
    byte[] link = h.linkName.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(link, 0, b, 157, Math.min(100, link.length));
    byte[] magic = (h.gnu ? "ustar  \0" : "ustar\00000").getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(magic, 0, b, 257, 8);
    byte[] user = h.userName.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(user, 0, b, 265, user.length);
    byte[] group = h.groupName.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(group, 0, b, 297, group.length);
    if (!h.gnu || h.type == '3' || h.type == '4') {
      octal(b, 329, 8, h.devMajor);
      octal(b, 337, 8, h.devMinor);
    }
    for (int i = 148; i < 156; i++) {
      b[i] = ' ';
    }
    long sum = 0;
    for (byte x : b) {
      sum += x & 0xff;
    }
    octal(b, 148, 7, sum);
    return b;
  }

  private static void octal(byte[] b, int offset, int length, long value) {
    String digits = Long.toOctalString(value);
    String padded = "0".repeat(length - 1 - digits.length()) + digits;
    byte[] bytes = padded.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(bytes, 0, b, offset, bytes.length);
    b[offset + length - 1] = 0;
  }

  /** Pseudo-random bytes, mildly compressible. */
  static byte[] content(long seed, int size) {
    Random random = new Random(seed);
    byte[] data = new byte[size];
    for (int i = 0; i < size; i++) {
      data[i] = (byte) ('a' + random.nextInt(random.nextInt(4) == 0 ? 26 : 4));
    }
    return data;
  }

  static byte[] gzip(byte[] data) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
      gz.write(data);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * A layer with everything a real one may hold. With {@code chunkSize} 1000: a file of 2500 bytes
   * (three chunks, the last short), one of exactly 2000 (two full chunks), one of exactly 1000.
   */
  static byte[] richLayer() {
    String longDir = "usr/share/" + "d".repeat(60) + "/" + "e".repeat(50);
    String gnuLongName = "opt/" + "g".repeat(120) + "/file-with-a-gnu-long-name.txt";
    String paxLongName = "opt/" + "p".repeat(130) + "/pax-named.txt";
    EstargzFixtures t = new EstargzFixtures();
    t.dir("./");
    t.dir("./etc/");
    t.file("./etc/passwd", "root:x:0:0:root:/root:/bin/sh\n".getBytes(StandardCharsets.UTF_8));
    t.file("./etc/empty", new byte[0]);
    t.dir("./usr/");
    t.dir("./usr/bin/");
    t.file("./usr/bin/big", content(1, 2500));
    t.file("./usr/bin/two-chunks", content(2, 2000));
    t.file("./usr/bin/one-chunk", content(3, 1000));
    Header setuid = new Header("./usr/bin/su");
    setuid.mode = 04755;
    setuid.size = 300;
    t.entry(setuid, content(4, 300));
    t.hardlink("./usr/bin/su-hard", "./usr/bin/su");
    t.symlink("./usr/bin/sh", "/bin/busybox");
    t.dir("./usr/share/");
    t.dir("./" + longDir.substring(0, longDir.lastIndexOf('/') + 1));
    t.dir("./" + longDir + "/"); // ustar prefix/name split
    t.dir("./opt/");
    t.gnuLong((byte) 'L', gnuLongName);
    Header gnu = new Header(gnuLongName);
    gnu.gnu = true;
    gnu.size = 700;
    t.entry(gnu, content(5, 700));
    t.gnuLong((byte) 'K', "opt/" + "t".repeat(150));
    t.gnuLong((byte) 'L', "opt/" + "s".repeat(110));
    Header gnuLink = new Header("opt/" + "s".repeat(110));
    gnuLink.gnu = true;
    gnuLink.type = '2';
    gnuLink.mode = 0777;
    gnuLink.linkName = "opt/" + "t".repeat(150);
    t.entry(gnuLink, new byte[0]);
    Map<String, byte[]> pax =
        records("path", paxLongName, "mtime", "1714564800.123456789", "atime", "1714564801.5");
    pax.put("SCHILY.xattr.user.comment", "hello".getBytes(StandardCharsets.UTF_8));
    pax.put("SCHILY.xattr.security.capability", new byte[] {1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0});
    pax.put("SCHILY.xattr.user.empty", new byte[0]);
    t.pax((byte) 'x', pax);
    Header paxFile = new Header("opt/ppp-truncated-name");
    paxFile.size = 1500;
    t.entry(paxFile, content(6, 1500));
    t.pax((byte) 'x', records("mtime", "1714564800.75", "uid", "3000000", "uname", "big"));
    Header bigUid = new Header("opt/big-uid");
    bigUid.size = 10;
    bigUid.userName = "";
    t.entry(bigUid, content(7, 10));
    Header nobody = new Header("opt/nobody-file");
    nobody.uid = 65534;
    nobody.gid = 65534;
    nobody.userName = "nobody";
    nobody.groupName = "nogroup";
    nobody.size = 5;
    t.entry(nobody, content(8, 5));
    Header renamed = new Header("opt/other-name-same-uid");
    renamed.uid = 65534;
    renamed.gid = 65534;
    renamed.userName = "nobody2";
    renamed.groupName = "nogroup";
    t.entry(renamed, new byte[0]);
    t.dir("./var/");
    t.dir("./var/empty/");
    t.fifo("./var/fifo");
    t.dir("./dev/");
    t.charDevice("./dev/null", 1, 3);
    t.file("./var/.wh.removed", new byte[0]);
    t.file("./var/empty/.wh..wh..opq", new byte[0]);
    Header old = new Header("./var/epoch-file");
    old.mtime = 0;
    old.size = 1;
    t.entry(old, new byte[] {'x'});
    return t.finish();
  }
}
