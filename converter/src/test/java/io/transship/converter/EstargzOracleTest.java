package io.transship.converter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.transship.converter.LayerTranscoder.SourceCompression;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks converted blobs with the independent checker {@code esgz-verify} (the reference estargz
 * library plus a from-scratch gzip/tar/TOC check and a file-tree comparison with the source; see
 * docs/formats.md "Checking your output"). The checker is looked for at {@code
 * ../shared/tools/oracle/bin/esgz-verify} next to the repository and at {@code
 * /work/shared/tools/oracle/bin/esgz-verify}; these tests are skipped only where it is absent (CI
 * builds it). Layers made by GNU tar need {@code tar} (and {@code mkfifo}) on the PATH.
 */
class EstargzOracleTest {

  @TempDir Path dir;

  static Optional<Path> oracle() {
    List<Path> candidates = new ArrayList<>();
    Path here = Path.of("").toAbsolutePath();
    for (Path p = here; p != null; p = p.getParent()) {
      if (Files.exists(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("converter"))) {
        candidates.add(p.resolveSibling("shared/tools/oracle/bin/esgz-verify"));
        break;
      }
    }
    candidates.add(Path.of("/work/shared/tools/oracle/bin/esgz-verify"));
    return candidates.stream().filter(Files::isExecutable).findFirst();
  }

  static boolean onPath(String program) {
    String path = System.getenv().getOrDefault("PATH", "");
    return Stream.of(path.split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, program)));
  }

  /** Converts, writes source and blob to files, runs esgz-verify and asserts exit status 0. */
  TranscodeResult convertAndVerify(String label, byte[] source, EstargzOptions options)
      throws Exception {
    Path verify = oracle().orElseThrow();
    boolean gzip = source.length > 1 && (source[0] & 0xff) == 0x1f && (source[1] & 0xff) == 0x8b;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    TranscodeResult result =
        new EstargzTranscoder(options, dir)
            .transcode(
                new ByteArrayInputStream(source),
                gzip ? SourceCompression.GZIP : SourceCompression.NONE,
                null,
                out);
    Path original = dir.resolve(label + (gzip ? ".tar.gz" : ".tar"));
    Path blob = dir.resolve(label + ".esgz");
    Path annotations = dir.resolve(label + ".annotations.json");
    Files.write(original, source);
    Files.write(blob, out.toByteArray());
    StringBuilder json = new StringBuilder("{");
    for (Map.Entry<String, String> a : result.annotations().entrySet()) {
      json.append(json.length() > 1 ? "," : "");
      json.append('"').append(a.getKey()).append("\":\"").append(a.getValue()).append('"');
    }
    Files.writeString(annotations, json.append('}'));
    Process process =
        new ProcessBuilder(
                verify.toString(),
                "-annotations",
                annotations.toString(),
                "-diff-id",
                result.diffId().toString(),
                "-orig",
                original.toString(),
                blob.toString())
            .redirectErrorStream(true)
            .start();
    String report = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(5, TimeUnit.MINUTES)).isTrue();
    assertThat(process.exitValue()).as(label + ":\n" + report).isZero();
    assertThat(report).contains("RESULT: OK");
    return result;
  }

  static EstargzOptions small(String... prioritized) {
    return new EstargzOptions(9, 1000, List.of(prioritized), 2);
  }

  @Test
  void acceptsTheRichLayer() throws Exception {
    assumeTrue(oracle().isPresent(), "esgz-verify not built");
    byte[] tar = EstargzFixtures.richLayer();
    convertAndVerify("rich-gz", EstargzFixtures.gzip(tar), small());
    convertAndVerify("rich-tar", tar, new EstargzOptions(1, 4 << 20, List.of(), 1));
    convertAndVerify(
        "rich-prioritized", tar, small("usr/bin/su-hard", "etc/passwd", "./usr/bin/big"));
  }

  @Test
  void acceptsManySmallAndLargeFiles() throws Exception {
    assumeTrue(oracle().isPresent(), "esgz-verify not built");
    EstargzFixtures t = new EstargzFixtures();
    t.dir("data/");
    for (int i = 0; i < 200; i++) {
      t.file("data/f" + i, EstargzFixtures.content(i, (i * 7919) % 5000));
    }
    t.file("data/large", EstargzFixtures.content(99, 3 << 20));
    convertAndVerify("many", t.finish(), new EstargzOptions(6, 1 << 20, List.of(), 3));
  }

  /** A directory tree with what GNU tar has to encode specially. */
  Path tree() throws Exception {
    Path root = Files.createDirectories(dir.resolve("tree"));
    Path deep = root.resolve("usr/share/" + "d".repeat(70) + "/" + "e".repeat(60));
    Files.createDirectories(deep);
    Files.write(deep.resolve("long-name-file-" + "f".repeat(40)), "deep".getBytes());
    Files.createDirectories(root.resolve("empty-dir"));
    Files.write(root.resolve("empty-file"), new byte[0]);
    Files.write(root.resolve("big"), EstargzFixtures.content(5, 2500));
    Files.write(root.resolve("setuid"), "#!/bin/sh\n".getBytes());
    Files.setPosixFilePermissions(
        root.resolve("setuid"), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createSymbolicLink(root.resolve("link"), Path.of("big"));
    Files.createSymbolicLink(
        root.resolve("long-link"), deep.resolve("long-name-file-" + "f".repeat(40)));
    Files.createLink(root.resolve("hard"), root.resolve("big"));
    Files.createLink(deep.resolve("hard-" + "h".repeat(50)), root.resolve("big"));
    Files.write(root.resolve(".wh.gone"), new byte[0]);
    Files.setLastModifiedTime(
        root.resolve("big"), FileTime.from(Instant.parse("2024-05-01T12:00:00.654321Z")));
    Process fifo = new ProcessBuilder("mkfifo", root.resolve("fifo").toString()).start();
    assertThat(fifo.waitFor()).isZero();
    return root;
  }

  byte[] gnuTar(Path root, String... options) throws Exception {
    Path out = dir.resolve("gnu-" + System.nanoTime() + ".tar");
    List<String> command =
        new ArrayList<>(List.of("tar", "-C", root.toString(), "-cf", out.toString()));
    command.addAll(Arrays.asList(options));
    command.add(".");
    Process tar = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(tar.waitFor()).as(output).isZero();
    return Files.readAllBytes(out);
  }

  @Test
  void gnuTarLayersArePreservedByteForByte() throws Exception {
    assumeTrue(onPath("tar") && onPath("mkfifo"), "GNU tar or mkfifo not installed");
    Path root = tree();
    for (String format : List.of("--format=gnu", "--format=pax", "--format=ustar")) {
      byte[] tar;
      try {
        tar = gnuTar(root, format, "--sort=name", "--numeric-owner");
      } catch (AssertionError ustarTooLong) {
        continue; // ustar cannot hold every name of the tree; the others can
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      new EstargzTranscoder(small(), dir)
          .transcode(new ByteArrayInputStream(tar), SourceCompression.NONE, null, out);
      byte[] d = new EstargzBlob(out.toByteArray()).decompressed;
      int n = EstargzTranscoderTest.entriesLength(tar);
      assertThat(Arrays.equals(d, 1024, 1024 + n, tar, 0, n)).as(format).isTrue();
      assertThat(
              EstargzTranscoderTest.summaries(d)
                  .subList(1, 1 + EstargzTranscoderTest.summaries(tar).size()))
          .isEqualTo(EstargzTranscoderTest.summaries(tar));
    }
  }

  @Test
  void oracleAcceptsGnuTarLayers() throws Exception {
    assumeTrue(oracle().isPresent(), "esgz-verify not built");
    assumeTrue(onPath("tar") && onPath("mkfifo"), "GNU tar or mkfifo not installed");
    Path root = tree();
    convertAndVerify("gnu", EstargzFixtures.gzip(gnuTar(root, "--format=gnu")), small());
    convertAndVerify("pax", gnuTar(root, "--format=pax"), small("big", "usr/share"));
  }

  @Test
  void sparseFilesFromGnuTarAreRefused() throws Exception {
    assumeTrue(onPath("tar"), "GNU tar not installed");
    Path root = Files.createDirectories(dir.resolve("sparse"));
    try (RandomAccessFile file = new RandomAccessFile(root.resolve("holes").toFile(), "rw")) {
      file.seek(1 << 20);
      file.write(1);
    }
    for (String format : List.of("--format=gnu", "--format=pax")) {
      byte[] tar = gnuTar(root, format, "--sparse");
      assertThatThrownBy(() ->
              new EstargzTranscoder(small(), dir)
                  .transcode(
                      new ByteArrayInputStream(tar),
                      SourceCompression.NONE,
                      null,
                      new ByteArrayOutputStream()))
          .as(format)
          .isInstanceOf(UnsupportedLayerException.class)
          .hasMessageContaining("sparse");
    }
  }
}
