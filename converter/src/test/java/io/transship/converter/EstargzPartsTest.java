package io.transship.converter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The small pieces of the eStargz writer, each against the rule it implements. */
class EstargzPartsTest {

  @Test
  void modtimeIsRfc3339UtcRoundedToTheSecondLikeTheReference() throws IOException {
    assertThat(TocJson.modtime(1_714_564_800L, 0)).isEqualTo("2024-05-01T12:00:00Z");
    assertThat(TocJson.modtime(1_714_564_800L, 499_999_999)).isEqualTo("2024-05-01T12:00:00Z");
    assertThat(TocJson.modtime(1_714_564_800L, 500_000_000)).isEqualTo("2024-05-01T12:00:01Z");
    assertThat(TocJson.modtime(0, 0)).isEmpty(); // the epoch: omitted
    assertThat(TocJson.modtime(0, 900_000_000)).isEmpty(); // Go's Unix() is still 0
    assertThat(TocJson.modtime(-1, 0)).isEqualTo("1969-12-31T23:59:59Z");
    assertThat(TocJson.modtime(-62_135_596_800L, 0)).isEmpty(); // Go's zero time
    assertThat(TocJson.modtime(253_402_300_800L, 0)).isEqualTo("10000-01-01T00:00:00Z");
    assertThat(TocJson.modtime(-62_198_755_200L, 0)).isEqualTo("-0001-01-01T00:00:00Z");
    assertThatThrownBy(() -> TocJson.modtime(Long.MAX_VALUE, 0))
        .isInstanceOf(UnsupportedLayerException.class);
  }

  @Test
  void namesAreCleanedAsEstargzCleansThem() {
    assertThat(TarNames.clean("./usr//bin/")).isEqualTo("usr/bin");
    assertThat(TarNames.clean("/etc/passwd")).isEqualTo("etc/passwd");
    assertThat(TarNames.clean("./")).isEmpty();
    assertThat(TarNames.clean("/")).isEmpty();
    assertThat(TarNames.clean("")).isEmpty();
    assertThat(TarNames.clean("../../a/./b/../c")).isEqualTo("a/c");
    assertThat(TarNames.clean("a/..b/...")).isEqualTo("a/..b/...");
    assertThat(TarNames.parent("usr/bin/sh")).isEqualTo("usr/bin");
    assertThat(TarNames.parent("usr")).isEmpty();
  }

  @Test
  void numericFieldsReadLikeGo() throws IOException {
    byte[] b = "  0755 \0".getBytes(StandardCharsets.US_ASCII);
    assertThat(TarFields.numeric(b, 0, b.length)).isEqualTo(0755);
    assertThat(TarFields.numeric(new byte[8], 0, 8)).isZero();
    byte[] base256 = {(byte) 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34};
    assertThat(TarFields.numeric(base256, 0, 12)).isEqualTo(0x1234);
    byte[] negative = new byte[12];
    java.util.Arrays.fill(negative, (byte) 0xff);
    assertThat(TarFields.numeric(negative, 0, 12)).isEqualTo(-1);
    byte[] bad = "0789\0".getBytes(StandardCharsets.US_ASCII);
    assertThatThrownBy(() -> TarFields.numeric(bad, 0, bad.length)).isInstanceOf(IOException.class);
  }

  @Test
  void paxRecordsAndTimes() throws IOException {
    byte[] data =
        "30 mtime=1714564800.123456789\n11 path=ab\n11 path=cd\n19 SCHILY.xattr.a=\n"
            .getBytes(StandardCharsets.UTF_8);
    Map<String, byte[]> records = TarFields.paxRecords(data);
    assertThat(new String(records.get("path"), StandardCharsets.UTF_8)).isEqualTo("cd");
    assertThat(records.get("SCHILY.xattr.a")).isEmpty();
    assertThat(TarFields.paxTime("1714564800.123456789".getBytes()))
        .containsExactly(1714564800L, 123456789L);
    assertThat(TarFields.paxTime("1.5".getBytes())).containsExactly(1L, 500_000_000L);
    assertThat(TarFields.paxTime("1.1234567891".getBytes())).containsExactly(1L, 123_456_789L);
    assertThat(TarFields.paxTime("-1.25".getBytes())).containsExactly(-2L, 750_000_000L);
    assertThat(TarFields.paxTime("-0.5".getBytes())).containsExactly(-1L, 500_000_000L);
    for (String broken :
        List.of("5 a=b\n", "12 path=ab", "8 noequ\n", "x path=a\n", "6 =ab\n", "3 a=\n")) {
      assertThatThrownBy(() -> TarFields.paxRecords(broken.getBytes(StandardCharsets.UTF_8)))
          .as(broken)
          .isInstanceOf(IOException.class);
    }
  }

  @Test
  void footerLayout() {
    byte[] footer = EstargzFormat.footer(0x1234abcdL);
    assertThat(footer).hasSize(51);
    assertThat(HexFormat.of().formatHex(footer))
        .isEqualTo(
            "1f8b0804"
                + "00000000"
                + "00"
                + "ff"
                + "1a00"
                + "5347"
                + "1600"
                + HexFormat.of()
                    .formatHex("000000001234abcdSTARGZ".getBytes(StandardCharsets.US_ASCII))
                + "010000ffff"
                + "00000000"
                + "00000000");
  }

  @Test
  void ownHeadersAreValidUstar() throws IOException {
    byte[] header = EstargzFormat.regularFileHeader(".prefetch.landmark", 1);
    RawTarReader reader =
        new RawTarReader(new java.io.ByteArrayInputStream(concat(header, new byte[512])));
    RawTarEntry entry = reader.next();
    assertThat(entry.name()).isEqualTo(".prefetch.landmark");
    assertThat(entry.kind()).isEqualTo(RawTarEntry.Kind.REG);
    assertThat(entry.size()).isEqualTo(1);
    assertThat(entry.mode()).isZero();
    assertThat(entry.mtimeSeconds()).isZero();
  }

  @Test
  void tocJsonIsCompactOrderedAndOmitsEmptyFields() {
    TocEntry dir = new TocEntry("a \"quoted\"\n\u0001name/", "dir");
    dir.mode = 0755;
    dir.xattrs = new TreeMap<>(Map.of("user.b", new byte[] {1}, "user.a", new byte[0]));
    TocEntry reg = new TocEntry("f", "reg");
    reg.size = 3;
    reg.member = 1;
    reg.digest = "sha256:x";
    reg.chunkDigest = "sha256:x";
    byte[] json = TocJson.write(List.of(dir, reg), member -> 100L * member);
    assertThat(new String(json, StandardCharsets.UTF_8))
        .isEqualTo(
            "{\"version\":1,\"entries\":["
                + "{\"name\":\"a \\\"quoted\\\"\\n\\u0001name/\",\"type\":\"dir\",\"mode\":493,"
                + "\"xattrs\":{\"user.a\":\"\",\"user.b\":\"AQ==\"}},"
                + "{\"name\":\"f\",\"type\":\"reg\",\"size\":3,\"offset\":100,"
                + "\"digest\":\"sha256:x\",\"chunkDigest\":\"sha256:x\"}]}");
  }

  @Test
  void hardlinksMustStayInsideTheLayer() throws IOException {
    LayerNames names = new LayerNames();
    names.add(entry("a", RawTarEntry.Kind.REG, ""));
    names.add(entry("b", RawTarEntry.Kind.HARDLINK, "./a"));
    names.add(entry("c", RawTarEntry.Kind.HARDLINK, "b"));
    names.checkHardlinks();
    LayerNames cycle = new LayerNames();
    cycle.add(entry("x", RawTarEntry.Kind.HARDLINK, "y"));
    cycle.add(entry("y", RawTarEntry.Kind.HARDLINK, "x"));
    assertThatThrownBy(cycle::checkHardlinks).isInstanceOf(UnsupportedLayerException.class);
    assertThatThrownBy(() -> names.add(entry("./a/", RawTarEntry.Kind.DIR, "")))
        .isInstanceOf(UnsupportedLayerException.class);
  }

  @Test
  void prioritizedOrderMovesParentsAndLinkTargetsFirst() {
    List<RawTarEntry> entries =
        List.of(
            entry("./", RawTarEntry.Kind.DIR, ""),
            entry("./x", RawTarEntry.Kind.REG, ""),
            entry("./lib/", RawTarEntry.Kind.DIR, ""),
            entry("./lib/target", RawTarEntry.Kind.REG, ""),
            entry("./bin/app", RawTarEntry.Kind.HARDLINK, "lib/target"),
            entry("./y", RawTarEntry.Kind.REG, ""));
    // ./bin/ itself is missing from the layer: the file still moves
    assertThat(PrioritizedOrder.of(entries, List.of("y", "/bin/app", "nope", "y")))
        .containsExactly(0, 5, 2, 3, 4);
    assertThat(PrioritizedOrder.of(entries, List.of("nope"))).isEmpty();
  }

  static RawTarEntry entry(String name, RawTarEntry.Kind kind, String link) {
    return new RawTarEntry(
        new byte[0],
        name,
        TarNames.clean(name),
        kind,
        0,
        link,
        0644,
        0,
        0,
        "",
        "",
        0,
        0,
        0,
        0,
        new TreeMap<>(),
        0,
        0);
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }
}
