package io.transship.server.cli;

import io.transship.converter.EstargzOptions;
import io.transship.converter.EstargzTranscoder;
import io.transship.converter.LayerTranscoder;
import io.transship.converter.LayerTranscoder.SourceCompression;
import io.transship.converter.TranscodeResult;
import io.transship.converter.ZstdOptions;
import io.transship.converter.ZstdTranscoder;
import io.transship.server.config.Formats;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code transship convert}: convert a layer file, or every image of an OCI image layout, offline —
 * with the same transcoder the proxy runs, so the output bytes are the ones the proxy would serve.
 */
@Command(
    name = "convert",
    description =
        "Convert a gzip layer file or an OCI image layout directory to zstd or eStargz, offline.")
public final class ConvertCommand implements Callable<Integer> {
  @Parameters(index = "0", description = "a gzip (or tar) layer file, or an OCI layout directory")
  Path input;

  @Parameters(index = "1", description = "output layer file, or output layout directory")
  Path output;

  @Option(names = "--format", defaultValue = "zstd", description = "zstd (default) or estargz")
  String format;

  @Option(
      names = "--level",
      defaultValue = "0",
      description = "zstd level 1-19 (default 3); eStargz gzip level 1-9 (default 6)")
  int level;

  @Option(
      names = "--threads",
      defaultValue = "0",
      description = "compression threads (default: cores, max 4); never changes the output")
  int threads;

  @Override
  public Integer call() throws IOException {
    String chosen = Formats.parse(format, "--format");
    boolean estargz = Formats.ESTARGZ.equals(chosen);
    if (!estargz && !Formats.ZSTD.equals(chosen)) {
      System.err.println("transship: --format must be zstd or estargz, got " + format);
      return 2;
    }
    // the ranges conversion.zstd-level and conversion.estargz.level allow: the proxy can serve
    // what convert produces
    int maxLevel = estargz ? 9 : 19;
    int chosenLevel = level == 0 ? (estargz ? EstargzOptions.DEFAULT_LEVEL : 3) : level;
    if (chosenLevel < 1 || chosenLevel > maxLevel) {
      System.err.println(
          "transship: --level must be between 1 and "
              + maxLevel
              + " for "
              + chosen
              + ", got "
              + level);
      return 2;
    }
    int workers = threads > 0 ? threads : ZstdOptions.defaults().workers();
    LayerTranscoder transcoder =
        estargz
            ? new EstargzTranscoder(
                new EstargzOptions(
                    chosenLevel, EstargzOptions.DEFAULT_CHUNK_SIZE, java.util.List.of(), workers),
                output.toAbsolutePath().getParent())
            : new ZstdTranscoder(new ZstdOptions(chosenLevel, workers));
    if (!Files.exists(input)) {
      System.err.println("transship: " + input + " does not exist");
      return 2;
    }
    if (Files.isDirectory(input)) {
      new LayoutConversion(transcoder, chosen, estargz).convert(input, output);
      return 0;
    }
    String problem = LayerFiles.problemOf(input);
    if (problem != null) {
      System.err.println("transship: " + problem);
      return 2;
    }
    TranscodeResult result = convertFile(transcoder, input, output);
    System.out.printf(
        "%s %d bytes (diff_id %s)%n", result.digest(), result.size(), result.diffId());
    return 0;
  }

  /** Converts one layer file, with a progress bar; the output is written atomically. */
  static TranscodeResult convertFile(LayerTranscoder transcoder, Path in, Path out)
      throws IOException {
    Path partial = out.resolveSibling(out.getFileName() + ".part");
    try (ProgressBar bar = new ProgressBar(in.getFileName().toString(), Files.size(in));
        InputStream source = new BufferedInputStream(bar.track(Files.newInputStream(in)), 1 << 16);
        OutputStream sink = new BufferedOutputStream(Files.newOutputStream(partial), 1 << 16)) {
      source.mark(2);
      boolean gzip = source.read() == 0x1f && source.read() == 0x8b;
      source.reset();
      TranscodeResult result =
          transcoder.transcode(
              source, gzip ? SourceCompression.GZIP : SourceCompression.NONE, null, sink);
      sink.flush();
      Files.move(partial, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      return result;
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(partial);
      throw e;
    }
  }
}
