package io.transship.converter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.transship.converter.LayerTranscoder.SourceCompression;
import io.transship.oci.Digest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EstargzTranscoderTest {

  static final int CHUNK = 1000;

  @TempDir Path spool;

  record Converted(byte[] blob, TranscodeResult result, EstargzBlob parsed) {}

  Converted convert(byte[] source, SourceCompression compression, EstargzOptions options)
      throws IOException {
    return convert(source, compression, options, DeflateBackend.preferred(), null);
  }

  Converted convert(
      byte[] source,
      SourceCompression compression,
      EstargzOptions options,
      DeflateBackend backend,
      Digest expected)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TranscodeResult result =
        new EstargzTranscoder(options, spool, backend)
            .transcode(new ByteArrayInputStream(source), compression, expected, out);
    byte[] blob = out.toByteArray();
    return new Converted(blob, result, new EstargzBlob(blob));
  }

  static EstargzOptions options(int threads, String... prioritized) {
    return new EstargzOptions(6, CHUNK, List.of(prioritized), threads);
  }

  static String sha256(byte[] bytes) {
    return Digest.sha256(bytes).toString();
  }

  static String sha256(byte[] bytes, int offset, int length) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(bytes, offset, length);
      return "sha256:" + HexFormat.of().formatHex(md.digest());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The source tar's entries region: everything before its end-of-archive blocks. */
  static int entriesLength(byte[] tar) throws IOException {
    RawTarReader reader = new RawTarReader(new ByteArrayInputStream(tar));
    long position = 0;
    for (RawTarEntry e = reader.next(); e != null; e = reader.next()) {
      position += e.rawHeader().length + e.payloadSize() + e.paddingSize();
    }
    return (int) position;
  }

  @Test
  void payloadIsTheSourceTarByteForByteBetweenLandmarkAndToc() throws IOException {
    byte[] tar = EstargzFixtures.richLayer();
    Converted c = convert(EstargzFixtures.gzip(tar), SourceCompression.GZIP, options(2));
    byte[] d = c.parsed().decompressed;
    int n = entriesLength(tar);

    // landmark: a 512-byte header, then 0x0f and padding
    assertThat(new String(d, 0, 21, StandardCharsets.US_ASCII)).isEqualTo(".no.prefetch.landmark");
    assertThat(d[512]).isEqualTo((byte) 0x0f);
    // the source's entries, unchanged
    assertThat(Arrays.equals(d, 1024, 1024 + n, tar, 0, n)).isTrue();
    // then the TOC entry and exactly two zero blocks
    assertThat(new String(d, 1024 + n, 17, StandardCharsets.US_ASCII))
        .isEqualTo("stargz.index.json");
    int tocLength = c.parsed().tocJson.length;
    int tocEnd = 1024 + n + 512 + tocLength + RawTarReader.padding(tocLength);
    assertThat(d.length).isEqualTo(tocEnd + 1024);
    assertThat(Arrays.copyOfRange(d, tocEnd, d.length)).containsOnly(0);
  }

  @Test
  void everyOriginalEntryKeepsItsHeaderFieldsAndContent() throws IOException {
    byte[] tar = EstargzFixtures.richLayer();
    Converted c = convert(tar, SourceCompression.NONE, options(1));
    List<String> original = summaries(tar);
    List<String> converted = summaries(c.parsed().decompressed);
    assertThat(converted.getFirst()).startsWith(".no.prefetch.landmark|");
    assertThat(converted.getLast()).startsWith("stargz.index.json|");
    assertThat(converted.subList(1, converted.size() - 1)).containsExactlyElementsOf(original);
    assertThat(original).hasSize(30);
    // the fixture's special cases really are in there
    assertThat(String.join("\n", original))
        .contains("opt/" + "g".repeat(120) + "/file-with-a-gnu-long-name.txt|")
        .contains("opt/" + "p".repeat(130) + "/pax-named.txt|")
        .contains("2024-05-01T12:00:00.123456789Z")
        .contains("SCHILY.xattr.user.comment=hello")
        .contains("|fifo|")
        .contains("|char 1,3|");
  }

  /** Every header field commons-compress sees, and the content's digest, of each entry. */
  static List<String> summaries(byte[] tar) throws IOException {
    List<String> list = new ArrayList<>();
    try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
      for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
        byte[] content = in.readAllBytes();
        String type =
            e.isSymbolicLink()
                ? "symlink"
                : e.isLink()
                    ? "hardlink"
                    : e.isFIFO()
                        ? "fifo"
                        : e.isCharacterDevice()
                            ? "char " + e.getDevMajor() + "," + e.getDevMinor()
                            : e.isDirectory() ? "dir" : "reg";
        list.add(
            String.join(
                "|",
                e.getName(),
                type,
                e.getLinkName(),
                Integer.toOctalString(e.getMode()),
                e.getLongUserId() + ":" + e.getLongGroupId(),
                e.getUserName() + ":" + e.getGroupName(),
                e.getLastModifiedTime().toInstant().toString(),
                Long.toString(e.getSize()),
                new TreeMap<>(e.getExtraPaxHeaders()).toString(),
                sha256(content)));
      }
    }
    return list;
  }

  @Test
  void footerIsThe51ByteEmptyGzipMemberPointingAtTheToc() throws IOException {
    Converted c =
        convert(
            EstargzFixtures.gzip(EstargzFixtures.richLayer()), SourceCompression.GZIP, options(2));
    byte[] blob = c.blob();
    byte[] footer = Arrays.copyOfRange(blob, blob.length - 51, blob.length);
    long tocOffset = c.parsed().tocOffset;
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, 4, 0, 0, 0, 0, 0, (byte) 0xff, 26, 0});
    expected.writeBytes(new byte[] {'S', 'G', 22, 0});
    expected.writeBytes(String.format("%016x", tocOffset).getBytes(StandardCharsets.US_ASCII));
    expected.writeBytes("STARGZ".getBytes(StandardCharsets.US_ASCII));
    expected.writeBytes(new byte[] {1, 0, 0, (byte) 0xff, (byte) 0xff, 0, 0, 0, 0, 0, 0, 0, 0});
    assertThat(footer).isEqualTo(expected.toByteArray());

    // the TOC member is the one right before the footer, and it holds only the TOC tar entry
    List<EstargzBlob.Member> members = c.parsed().members;
    EstargzBlob.Member last = members.getLast();
    EstargzBlob.Member toc = members.get(members.size() - 2);
    assertThat(last.offset()).isEqualTo(blob.length - 51);
    assertThat(last.uncompressedLength()).isZero();
    assertThat(toc.offset()).isEqualTo(tocOffset);
    assertThat(toc.offset() + toc.length()).isEqualTo(blob.length - 51);
    byte[] tocTar = c.parsed().inflate(tocOffset);
    assertThat(new String(tocTar, 0, 17, StandardCharsets.US_ASCII)).isEqualTo("stargz.index.json");
  }

  @Test
  void resultDescribesTheBlob() throws IOException {
    byte[] tar = EstargzFixtures.richLayer();
    Converted c = convert(EstargzFixtures.gzip(tar), SourceCompression.GZIP, options(2));
    TranscodeResult r = c.result();
    byte[] d = c.parsed().decompressed;
    assertThat(r.mediaType()).isEqualTo("application/vnd.oci.image.layer.v1.tar+gzip");
    assertThat(r.digest().toString()).isEqualTo(sha256(c.blob()));
    assertThat(r.size()).isEqualTo(c.blob().length);
    assertThat(r.diffId().toString()).isEqualTo(sha256(d));
    assertThat(r.sourceDiffId().toString()).isEqualTo(sha256(tar));
    assertThat(r.uncompressedSize()).isEqualTo(d.length);
    assertThat(r.annotations())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "containerd.io/snapshot/stargz/toc.digest",
                sha256(c.parsed().tocJson),
                "io.containers.estargz.uncompressed-size",
                Long.toString(d.length)));
  }

  @Test
  void tocOffsetsAreMemberBoundariesAndEveryChunkVerifies() throws IOException {
    Converted c =
        convert(
            EstargzFixtures.gzip(EstargzFixtures.richLayer()), SourceCompression.GZIP, options(2));
    EstargzBlob b = c.parsed();
    byte[] d = b.decompressed;
    long lastOffset = 0;
    String file = null;
    long fileSize = 0;
    ByteArrayOutputStream fileBytes = new ByteArrayOutputStream();
    String fileDigest = null;
    int chunks = 0;
    List<JsonNode> entries = new ArrayList<>(b.entries());
    entries.add(
        new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("type", "end"));
    for (JsonNode e : entries) {
      String type = e.path("type").asText();
      if (!type.equals("chunk")) {
        if (file != null) {
          assertThat(fileBytes.size()).as(file).isEqualTo(fileSize);
          assertThat(sha256(fileBytes.toByteArray())).as(file).isEqualTo(fileDigest);
        }
        file = null;
      }
      if (type.equals("reg") && e.path("size").asLong() > 0) {
        file = e.path("name").asText();
        fileSize = e.path("size").asLong();
        fileDigest = e.path("digest").asText();
        fileBytes.reset();
      }
      if (type.equals("end")) {
        break;
      }
      if (!(type.equals("reg") && e.path("size").asLong() > 0) && !type.equals("chunk")) {
        assertThat(e.has("offset")).as(e.toString()).isFalse();
        continue;
      }
      long offset = e.path("offset").asLong();
      assertThat(offset).as("offsets increase").isGreaterThan(lastOffset);
      lastOffset = offset;
      EstargzBlob.Member m = b.memberAt(offset);
      assertThat(m).as("member at " + offset + " for " + e).isNotNull();
      long chunkOffset = e.path("chunkOffset").asLong();
      long chunkSize =
          e.path("chunkSize").asLong() == 0 ? fileSize - chunkOffset : e.path("chunkSize").asLong();
      assertThat(chunkOffset).isEqualTo(fileBytes.size());
      // the member's first decompressed byte is the chunk's first byte ...
      byte[] member = b.inflate(offset);
      assertThat(member.length).isGreaterThanOrEqualTo((int) chunkSize);
      assertThat(sha256(member, 0, (int) chunkSize)).isEqualTo(e.path("chunkDigest").asText());
      // ... and it is where the chunk is in the decompressed stream
      assertThat(
              Arrays.equals(
                  d,
                  (int) m.uncompressedOffset(),
                  (int) (m.uncompressedOffset() + chunkSize),
                  member,
                  0,
                  (int) chunkSize))
          .isTrue();
      fileBytes.write(member, 0, (int) chunkSize);
      chunks++;
    }
    assertThat(lastOffset).isLessThan(b.tocOffset);
    assertThat(chunks).isGreaterThan(10);
  }

  @Test
  void chunkEntriesFollowTheReferenceRules() throws IOException {
    Converted c = convert(EstargzFixtures.richLayer(), SourceCompression.NONE, options(1));
    List<JsonNode> entries = c.parsed().entries();
    int big = indexOf(entries, "./usr/bin/big");
    // 2500 bytes in 1000-byte chunks: reg (chunkSize 1000), chunk (1000), chunk (to the end)
    assertThat(entries.get(big).path("size").asLong()).isEqualTo(2500);
    assertThat(entries.get(big).path("chunkSize").asLong()).isEqualTo(1000);
    assertThat(entries.get(big + 1).path("type").asText()).isEqualTo("chunk");
    assertThat(entries.get(big + 1).path("name").asText()).isEqualTo("./usr/bin/big");
    assertThat(entries.get(big + 1).path("chunkOffset").asLong()).isEqualTo(1000);
    assertThat(entries.get(big + 1).path("chunkSize").asLong()).isEqualTo(1000);
    assertThat(entries.get(big + 2).path("chunkOffset").asLong()).isEqualTo(2000);
    assertThat(entries.get(big + 2).has("chunkSize")).isFalse();
    assertThat(entries.get(big + 3).path("type").asText()).isNotEqualTo("chunk");
    int two = indexOf(entries, "./usr/bin/two-chunks");
    assertThat(entries.get(two + 1).path("chunkSize").asLong()).isEqualTo(1000);
    assertThat(entries.get(two + 2).path("type").asText()).isNotEqualTo("chunk");
    int one = indexOf(entries, "./usr/bin/one-chunk");
    assertThat(entries.get(one).path("chunkSize").asLong()).isEqualTo(1000);
    assertThat(entries.get(one).path("digest").asText())
        .isEqualTo(entries.get(one).path("chunkDigest").asText());
    assertThat(entries.get(one + 1).path("type").asText()).isNotEqualTo("chunk");
  }

  @Test
  void tocEntriesCarryTheHeaderFields() throws IOException {
    Converted c = convert(EstargzFixtures.richLayer(), SourceCompression.NONE, options(1));
    List<JsonNode> entries = c.parsed().entries();
    assertThat(c.parsed().toc.path("version").asInt()).isEqualTo(1);

    JsonNode landmark = entries.getFirst();
    assertThat(landmark.toString())
        .isEqualTo(
            "{\"name\":\".no.prefetch.landmark\",\"type\":\"reg\",\"size\":1,\"offset\":"
                + landmark.path("offset").asLong()
                + ",\"digest\":\""
                + sha256(new byte[] {0x0f})
                + "\",\"chunkDigest\":\""
                + sha256(new byte[] {0x0f})
                + "\"}");

    JsonNode root = entries.get(1);
    assertThat(root.path("name").asText()).isEqualTo("./");
    assertThat(root.path("type").asText()).isEqualTo("dir");
    assertThat(root.path("mode").asLong()).isEqualTo(0755);
    assertThat(root.path("modtime").asText()).isEqualTo("2024-05-01T12:00:00Z");
    assertThat(root.path("userName").asText()).isEqualTo("root");
    assertThat(root.path("groupName").asText()).isEqualTo("root");
    assertThat(root.has("uid")).isFalse(); // zero: omitted
    // names only on change for the same id
    assertThat(entries.get(2).has("userName")).isFalse();

    JsonNode passwd = entry(entries, "./etc/passwd");
    assertThat(passwd.path("digest").asText())
        .isEqualTo(sha256("root:x:0:0:root:/root:/bin/sh\n".getBytes(StandardCharsets.UTF_8)));
    JsonNode empty = entry(entries, "./etc/empty");
    assertThat(empty.path("type").asText()).isEqualTo("reg");
    assertThat(empty.has("size") || empty.has("offset") || empty.has("digest")).isFalse();
    assertThat(entry(entries, "./usr/bin/su").path("mode").asLong()).isEqualTo(04755);
    JsonNode hard = entry(entries, "./usr/bin/su-hard");
    assertThat(hard.path("type").asText()).isEqualTo("hardlink");
    assertThat(hard.path("linkName").asText()).isEqualTo("./usr/bin/su");
    assertThat(hard.has("size")).isFalse();
    JsonNode sh = entry(entries, "./usr/bin/sh");
    assertThat(sh.path("type").asText()).isEqualTo("symlink");
    assertThat(sh.path("linkName").asText()).isEqualTo("/bin/busybox");
    JsonNode gnuLink = entry(entries, "opt/" + "s".repeat(110));
    assertThat(gnuLink.path("linkName").asText()).isEqualTo("opt/" + "t".repeat(150));
    String longDir = "./usr/share/" + "d".repeat(60) + "/" + "e".repeat(50) + "/";
    assertThat(entry(entries, longDir).path("type").asText()).isEqualTo("dir");

    JsonNode pax = entry(entries, "opt/" + "p".repeat(130) + "/pax-named.txt");
    assertThat(pax.path("modtime").asText()).isEqualTo("2024-05-01T12:00:00Z"); // .123 rounds down
    assertThat(pax.path("xattrs").path("user.comment").asText())
        .isEqualTo(java.util.Base64.getEncoder().encodeToString("hello".getBytes()));
    assertThat(pax.path("xattrs").path("security.capability").asText())
        .isEqualTo("AQAAAgAgAAAAAA==");
    assertThat(pax.path("xattrs").path("user.empty").asText()).isEmpty();
    assertThat(pax.path("xattrs").has("user.empty")).isTrue();

    JsonNode bigUid = entry(entries, "opt/big-uid");
    assertThat(bigUid.path("uid").asLong()).isEqualTo(3_000_000);
    assertThat(bigUid.path("userName").asText()).isEqualTo("big");
    assertThat(bigUid.path("modtime").asText()).isEqualTo("2024-05-01T12:00:01Z"); // .75 rounds up
    JsonNode nobody = entry(entries, "opt/nobody-file");
    assertThat(nobody.path("userName").asText()).isEqualTo("nobody");
    assertThat(nobody.path("groupName").asText()).isEqualTo("nogroup");
    JsonNode renamed = entry(entries, "opt/other-name-same-uid");
    assertThat(renamed.path("userName").asText()).isEqualTo("nobody2");
    assertThat(renamed.has("groupName")).isFalse();

    assertThat(entry(entries, "./var/fifo").path("type").asText()).isEqualTo("fifo");
    JsonNode dev = entry(entries, "./dev/null");
    assertThat(dev.path("type").asText()).isEqualTo("char");
    assertThat(dev.path("devMajor").asInt()).isEqualTo(1);
    assertThat(dev.path("devMinor").asInt()).isEqualTo(3);
    assertThat(entry(entries, "./var/.wh.removed").path("type").asText()).isEqualTo("reg");
    assertThat(entry(entries, "./var/empty/.wh..wh..opq").path("type").asText()).isEqualTo("reg");
    assertThat(entry(entries, "./var/epoch-file").has("modtime")).isFalse();
    assertThat(entries.getLast().path("name").asText()).isEqualTo("./var/epoch-file");
  }

  static int indexOf(List<JsonNode> entries, String name) {
    for (int i = 0; i < entries.size(); i++) {
      if (entries.get(i).path("name").asText().equals(name)
          && !entries.get(i).path("type").asText().equals("chunk")) {
        return i;
      }
    }
    throw new AssertionError("no TOC entry " + name);
  }

  static JsonNode entry(List<JsonNode> entries, String name) {
    return entries.get(indexOf(entries, name));
  }

  @Test
  void randomAccessReadsAFileThroughTheTocOnly() throws IOException {
    byte[] tar = EstargzFixtures.richLayer();
    Converted c = convert(EstargzFixtures.gzip(tar), SourceCompression.GZIP, options(2));
    EstargzBlob b = c.parsed(); // only the footer, the TOC and single members are used below
    List<JsonNode> entries = b.entries();
    String paxNamed = "opt/" + "p".repeat(130) + "/pax-named.txt";
    for (String name : List.of("./usr/bin/big", "./etc/passwd", paxNamed)) {
      int index = indexOf(entries, name);
      long size = entries.get(index).path("size").asLong();
      ByteArrayOutputStream content = new ByteArrayOutputStream();
      for (int i = index; i < entries.size(); i++) {
        JsonNode e = entries.get(i);
        if (i > index && !e.path("type").asText().equals("chunk")) {
          break;
        }
        long chunkSize = e.path("chunkSize").asLong(size - e.path("chunkOffset").asLong());
        if (chunkSize == 0) {
          chunkSize = size - e.path("chunkOffset").asLong();
        }
        byte[] member = b.inflate(e.path("offset").asLong()); // seek, inflate one member
        content.write(member, 0, (int) chunkSize);
      }
      assertThat(content.toByteArray()).as(name).isEqualTo(contentOf(tar, name));
    }
  }

  /** A file's content, read from the source tar with commons-compress. */
  static byte[] contentOf(byte[] tar, String name) throws IOException {
    try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
      for (TarArchiveEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
        if (e.getName().equals(name)) {
          return in.readAllBytes();
        }
      }
    }
    throw new AssertionError(name + " not in tar");
  }

  @Test
  void outputIsIdenticalAcrossRunsAndThreadCounts() throws IOException {
    byte[] source = EstargzFixtures.gzip(EstargzFixtures.richLayer());
    Converted one = convert(source, SourceCompression.GZIP, options(1));
    Converted again = convert(source, SourceCompression.GZIP, options(1));
    Converted two = convert(source, SourceCompression.GZIP, options(2));
    Converted four = convert(source, SourceCompression.GZIP, options(4));
    assertThat(again.blob()).isEqualTo(one.blob());
    assertThat(two.blob()).isEqualTo(one.blob());
    assertThat(four.blob()).isEqualTo(one.blob());
    assertThat(four.result()).isEqualTo(one.result());

    byte[] withPriority = convert(source, SourceCompression.GZIP, options(1, "etc/passwd")).blob();
    assertThat(convert(source, SourceCompression.GZIP, options(4, "etc/passwd")).blob())
        .isEqualTo(withPriority);
  }

  @Test
  void manyMembersInFlightStayInOrder() throws IOException {
    EstargzFixtures t = new EstargzFixtures();
    for (int i = 0; i < 300; i++) {
      t.file("f" + i, EstargzFixtures.content(i, 1 + (i * 37) % 3000));
    }
    byte[] tar = t.finish();
    byte[] one = convert(tar, SourceCompression.NONE, options(1)).blob();
    Converted three = convert(tar, SourceCompression.NONE, options(3));
    assertThat(three.blob()).isEqualTo(one);
    assertThat(three.parsed().members.size()).isGreaterThan(300);
  }

  @Test
  void bothDeflateBackendsWriteValidDeterministicBlobs() throws IOException {
    byte[] tar = EstargzFixtures.richLayer();
    for (DeflateBackend backend : DeflateBackend.values()) {
      if (!backend.available()) {
        continue;
      }
      Converted a = convert(tar, SourceCompression.NONE, options(1), backend, null);
      Converted b = convert(tar, SourceCompression.NONE, options(3), backend, null);
      assertThat(b.blob()).as(backend.id()).isEqualTo(a.blob());
      // the same tar up to the TOC (whose offsets differ with the compressed sizes)
      EstargzBlob parsed = a.parsed();
      EstargzBlob reference = convert(tar, SourceCompression.NONE, options(1)).parsed();
      long payload = parsed.memberAt(parsed.tocOffset).uncompressedOffset();
      assertThat(reference.memberAt(reference.tocOffset).uncompressedOffset()).isEqualTo(payload);
      assertThat(Arrays.copyOf(parsed.decompressed, (int) payload))
          .isEqualTo(Arrays.copyOf(reference.decompressed, (int) payload));
      assertThat(new EstargzTranscoder(options(1), spool, backend).settingsKey())
          .contains(backend.id());
    }
  }

  @Test
  void prioritizedFilesComeFirstThenThePrefetchLandmark() throws IOException {
    byte[] tar = EstargzFixtures.richLayer();
    Converted c =
        convert(
            EstargzFixtures.gzip(tar),
            SourceCompression.GZIP,
            options(2, "usr/bin/su-hard", "/etc/passwd", "not/in/layer", "./usr/bin/big"));
    List<String> names = new ArrayList<>();
    for (JsonNode e : c.parsed().entries()) {
      if (!e.path("type").asText().equals("chunk")) {
        names.add(e.path("name").asText());
      }
    }
    // su-hard needs its parents and its target first; passwd needs ./etc/; big, nothing new
    assertThat(names.subList(0, 9))
        .containsExactly(
            "./",
            "./usr/",
            "./usr/bin/",
            "./usr/bin/su",
            "./usr/bin/su-hard",
            "./etc/",
            "./etc/passwd",
            "./usr/bin/big",
            ".prefetch.landmark");
    assertThat(names).doesNotContain(".no.prefetch.landmark");
    // the rest in their original order
    List<String> original = new ArrayList<>();
    for (String s : summaries(tar)) {
      original.add(s.substring(0, s.indexOf('|')));
    }
    List<String> rest = new ArrayList<>(original);
    rest.removeAll(names.subList(0, 8));
    assertThat(names.subList(9, names.size())).containsExactlyElementsOf(rest);
    // the landmark's offset ends the prefetch area: every prioritized chunk is before it
    long landmark = entry(c.parsed().entries(), ".prefetch.landmark").path("offset").asLong();
    long passwd = entry(c.parsed().entries(), "./etc/passwd").path("offset").asLong();
    assertThat(passwd).isLessThan(landmark);
    // the tar itself is in that order too
    List<String> tarNames = new ArrayList<>();
    for (String s : summaries(c.parsed().decompressed)) {
      tarNames.add(s.substring(0, s.indexOf('|')));
    }
    assertThat(tarNames.subList(0, 9)).isEqualTo(names.subList(0, 9));
  }

  @Test
  void prioritizedFilesMissingFromTheLayerMeanNoPrefetch() throws IOException {
    byte[] tar = EstargzFixtures.richLayer();
    Converted c = convert(tar, SourceCompression.NONE, options(1, "no/such/file"));
    assertThat(c.parsed().entries().getFirst().path("name").asText())
        .isEqualTo(".no.prefetch.landmark");
    assertThat(c.parsed().decompressed)
        .isEqualTo(convert(tar, SourceCompression.NONE, options(1)).parsed().decompressed);
  }

  @Test
  void existingLandmarksAndTocInTheSourceAreDropped() throws IOException {
    byte[] tar =
        new EstargzFixtures()
            .file(".no.prefetch.landmark", new byte[] {0x0f})
            .file("./.prefetch.landmark", new byte[] {0x0f})
            .file("a", "a".getBytes(StandardCharsets.UTF_8))
            .file("stargz.index.json", "{\"version\":1,\"entries\":[]}".getBytes())
            .finish();
    Converted c = convert(tar, SourceCompression.NONE, options(1));
    List<String> names = new ArrayList<>();
    for (String s : summaries(c.parsed().decompressed)) {
      names.add(s.substring(0, s.indexOf('|')));
    }
    assertThat(names).containsExactly(".no.prefetch.landmark", "a", "stargz.index.json");
  }

  @Test
  void paxGlobalHeaderIsRefused() {
    byte[] tar =
        new EstargzFixtures()
            .dir("a/")
            .pax((byte) 'g', EstargzFixtures.records("comment", "global"))
            .file("a/b", new byte[] {1})
            .finish();
    assertThatThrownBy(() -> convert(tar, SourceCompression.NONE, options(2)))
        .isInstanceOf(UnsupportedLayerException.class)
        .isInstanceOf(IOException.class)
        .hasMessageContaining("PAX global header not supported");
  }

  @Test
  void sparseFilesAreRefused() {
    EstargzFixtures.Header sparse = new EstargzFixtures.Header("sparse");
    sparse.type = 'S';
    sparse.gnu = true;
    byte[] oldGnu = new EstargzFixtures().entry(sparse, new byte[0]).finish();
    assertThatThrownBy(() -> convert(oldGnu, SourceCompression.NONE, options(1)))
        .isInstanceOf(UnsupportedLayerException.class)
        .hasMessageContaining("sparse");
    byte[] pax =
        new EstargzFixtures()
            .pax(
                (byte) 'x',
                EstargzFixtures.records("GNU.sparse.major", "1", "GNU.sparse.minor", "0"))
            .file("sparse", new byte[512])
            .finish();
    assertThatThrownBy(() -> convert(pax, SourceCompression.NONE, options(1)))
        .isInstanceOf(UnsupportedLayerException.class)
        .hasMessageContaining("sparse");
  }

  @Test
  void layersTheTocCannotDescribeAreRefused() {
    byte[] duplicate =
        new EstargzFixtures().file("a", new byte[] {1}).file("./a", new byte[] {2}).finish();
    assertThatThrownBy(() -> convert(duplicate, SourceCompression.NONE, options(1)))
        .isInstanceOf(UnsupportedLayerException.class)
        .hasMessageContaining("duplicate");
    byte[] dangling = new EstargzFixtures().hardlink("b", "lower/layer/file").finish();
    assertThatThrownBy(() -> convert(dangling, SourceCompression.NONE, options(1)))
        .isInstanceOf(UnsupportedLayerException.class)
        .hasMessageContaining("hardlink");
    EstargzFixtures.Header h = new EstargzFixtures.Header("\u00e9");
    byte[] nonUtf8 = EstargzFixtures.block(h);
    nonUtf8[0] = (byte) 0xe9; // 'é' in Latin-1
    nonUtf8[1] = 0;
    fixChecksum(nonUtf8);
    byte[] tar = new byte[512 + 1024];
    System.arraycopy(nonUtf8, 0, tar, 0, 512);
    assertThatThrownBy(() -> convert(tar, SourceCompression.NONE, options(1)))
        .isInstanceOf(UnsupportedLayerException.class)
        .hasMessageContaining("UTF-8");
    EstargzFixtures.Header volume = new EstargzFixtures.Header("label");
    volume.type = 'V';
    byte[] volumeTar = new EstargzFixtures().entry(volume, new byte[0]).finish();
    assertThatThrownBy(() -> convert(volumeTar, SourceCompression.NONE, options(1)))
        .isInstanceOf(UnsupportedLayerException.class)
        .hasMessageContaining("'V'");
  }

  static void fixChecksum(byte[] block) {
    for (int i = 148; i < 156; i++) {
      block[i] = ' ';
    }
    long sum = 0;
    for (byte x : block) {
      sum += x & 0xff;
    }
    byte[] digits = String.format("%06o\0", sum).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(digits, 0, block, 148, 7);
  }

  @Test
  void malformedTarsFail() {
    byte[] tar = EstargzFixtures.richLayer();
    byte[] corrupt = tar.clone();
    corrupt[600]++; // second header's name: checksum mismatch
    assertThatThrownBy(() -> convert(corrupt, SourceCompression.NONE, options(1)))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("checksum");
    byte[] truncated = Arrays.copyOf(tar, 3000);
    assertThatThrownBy(() -> convert(truncated, SourceCompression.NONE, options(2)))
        .isInstanceOf(IOException.class);
  }

  @Test
  void diffIdMismatchIsDetected() throws IOException {
    byte[] tar = EstargzFixtures.richLayer();
    byte[] source = EstargzFixtures.gzip(tar);
    Digest right = Digest.sha256(tar);
    Digest wrong = Digest.sha256(new byte[] {1});
    Converted ok =
        convert(source, SourceCompression.GZIP, options(2), DeflateBackend.preferred(), right);
    assertThat(ok.result().sourceDiffId()).isEqualTo(right);
    assertThatThrownBy(() ->
            convert(source, SourceCompression.GZIP, options(2), DeflateBackend.preferred(), wrong))
        .isInstanceOf(DiffIdMismatchException.class)
        .hasMessageContaining(right.toString());
    assertThatThrownBy(() ->
            convert(
                source,
                SourceCompression.GZIP,
                options(1, "etc/passwd"),
                DeflateBackend.preferred(),
                wrong))
        .isInstanceOf(DiffIdMismatchException.class);
    Digest sha512 = new Digest("sha512", HexFormat.of().formatHex(sha512(tar)));
    assertThat(
            convert(source, SourceCompression.GZIP, options(1), DeflateBackend.preferred(), sha512)
                .result()
                .sourceDiffId())
        .isEqualTo(right);
  }

  static byte[] sha512(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-512").digest(data);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void emptyTarStillMakesAValidBlob() throws IOException {
    Converted c = convert(new byte[1024], SourceCompression.NONE, options(2));
    assertThat(c.parsed().entries()).hasSize(1);
    assertThat(c.parsed().entries().getFirst().path("name").asText())
        .isEqualTo(".no.prefetch.landmark");
    Converted nothing = convert(new byte[0], SourceCompression.NONE, options(1));
    assertThat(nothing.parsed().entries()).hasSize(1);
  }

  @Test
  void spoolFileIsRemoved() throws IOException {
    convert(EstargzFixtures.richLayer(), SourceCompression.NONE, options(2, "etc/passwd"));
    try (var files = java.nio.file.Files.list(spool)) {
      assertThat(files).isEmpty();
    }
    assertThatThrownBy(() ->
            convert(
                new EstargzFixtures()
                    .file("a", new byte[] {1})
                    .pax((byte) 'g', EstargzFixtures.records("comment", "x"))
                    .finish(),
                SourceCompression.NONE,
                options(2, "a")))
        .isInstanceOf(UnsupportedLayerException.class);
    try (var files = java.nio.file.Files.list(spool)) {
      assertThat(files).isEmpty();
    }
  }
}
