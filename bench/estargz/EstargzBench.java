import io.transship.converter.EstargzOptions;
import io.transship.converter.EstargzTranscoder;
import io.transship.converter.LayerTranscoder.SourceCompression;
import io.transship.converter.TranscodeResult;
import java.io.BufferedOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Times EstargzTranscoder on one layer. Run from the repository root after `mvn -pl converter -am
 * package` (or compile):
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp converter/target/classes:oci-model/target/classes \
 *   [-Dtransship.estargz.deflate=zlib] bench/estargz/EstargzBench.java LAYER OUT LEVEL THREADS RUNS
 * </pre>
 *
 * LAYER is a .tar.gz or a plain .tar. Reads the layer into memory first (so disk speed does not
 * count), runs RUNS+1 conversions (the first warms the JIT and is not counted), writes the last
 * blob to OUT and its annotations to OUT.annotations.json, and prints one line:
 * {@code transship level=L threads=T key=K seconds=S mbps=X cold_seconds=C size=N diffid=D}: S
 * the best warm run, C the first (cold JIT) run, MB/s uncompressed tar bytes (10^6) per second of
 * the best run.
 */
public class EstargzBench {
  public static void main(String[] args) throws Exception {
    Path layer = Path.of(args[0]);
    Path out = Path.of(args[1]);
    int level = Integer.parseInt(args[2]);
    int threads = Integer.parseInt(args[3]);
    int runs = Integer.parseInt(args[4]);
    byte[] bytes = Files.readAllBytes(layer);
    boolean gzip = bytes.length > 2 && (bytes[0] & 0xff) == 0x1f && (bytes[1] & 0xff) == 0x8b;
    SourceCompression compression = gzip ? SourceCompression.GZIP : SourceCompression.NONE;
    EstargzTranscoder transcoder =
        new EstargzTranscoder(
            new EstargzOptions(level, EstargzOptions.DEFAULT_CHUNK_SIZE, List.of(), threads));
    double best = Double.MAX_VALUE;
    double cold = 0;
    TranscodeResult result = null;
    for (int run = 0; run <= runs; run++) {
      long start = System.nanoTime();
      try (InputStream in = new java.io.ByteArrayInputStream(bytes);
          OutputStream sink = new BufferedOutputStream(Files.newOutputStream(out), 1 << 20)) {
        result = transcoder.transcode(in, compression, null, sink);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      if (run == 0) {
        cold = seconds;
      }
      if (run > 0 || runs == 0) {
        best = Math.min(best, seconds);
      }
    }
    long tarBytes = bytes.length; // throughput is per byte of the source's uncompressed tar
    if (gzip) {
      try (InputStream in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(bytes))) {
        tarBytes = in.transferTo(OutputStream.nullOutputStream());
      }
    }
    StringBuilder json = new StringBuilder("{");
    for (Map.Entry<String, String> a : result.annotations().entrySet()) {
      if (json.length() > 1) json.append(',');
      json.append('"').append(a.getKey()).append("\":\"").append(a.getValue()).append('"');
    }
    Files.writeString(Path.of(out + ".annotations.json"), json.append('}').toString());
    System.out.println(
        String.format(
            Locale.ROOT,
            "transship level=%d threads=%d key=%s seconds=%.3f mbps=%.1f cold_seconds=%.3f"
                + " size=%d diffid=%s",
            level,
            threads,
            transcoder.settingsKey(),
            best,
            tarBytes / 1e6 / best,
            cold,
            result.size(),
            result.diffId()));
  }
}
