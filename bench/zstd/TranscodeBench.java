import com.sun.management.OperatingSystemMXBean;
import io.transship.converter.GzipInput;
import io.transship.converter.LayerTranscoder.SourceCompression;
import io.transship.converter.TranscodeResult;
import io.transship.converter.ZstdOptions;
import io.transship.converter.ZstdTranscoder;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The timing driver of bench/zstd/run.sh: transship's gzip→zstd transcode in-process (no JVM
 * startup in the figures), interleaved with shell pipelines, on one layer. Compiled against
 * proxy-server/target/transship.jar, which holds the converter.
 *
 * <pre>
 *   java --enable-native-access=ALL-UNNAMED -cp transship.jar:classes TranscodeBench LAYER.gz \
 *       [--warmup 1] [--runs 3] [--level 3] [--workers 2] [--clk-tck 100] \
 *       [--idle-wait SECONDS] [--noise-cores 0.3] [--noise-retries 2] \
 *       [--pipeline NAME 'SHELL COMMAND']... [--inflate-pipeline NAME 'SHELL COMMAND']... \
 *       [--checks FILE]
 * </pre>
 *
 * <p>Rows: the {@code --pipeline}s, then transship's {@link ZstdTranscoder} with ISA-L ({@link
 * GzipInput} native) and with java.util.zip ({@code transship.gzip.native=false}), writing to a
 * null sink, exactly as the proxy transcodes; then the decompression alone: the {@code
 * --inflate-pipeline}s and {@link GzipInput} both ways. Every round runs every row once, so that all
 * rows see the same machine; the first {@code --warmup} rounds are not recorded. A row's figure is
 * its best wall time over the measured rounds, with that run's CPU time (user+sys of all threads,
 * or of the whole pipeline, measured by /usr/bin/time) and the cores other processes used during
 * it (from /proc/stat). A measured run during which other processes used more than {@code
 * --noise-cores} is repeated, up to {@code --noise-retries} times, after waiting up to {@code
 * --idle-wait} seconds for the machine to go quiet; every attempt counts, the best one wins. Prints
 * a table; writes {@code key value} lines for run.sh's checks.
 */
public final class TranscodeBench {

  private static final PrintStream ERR = System.err;

  enum Kind {
    PIPELINE,
    TRANSCODE_NATIVE,
    TRANSCODE_JDK,
    INFLATE_PIPELINE,
    INFLATE_NATIVE,
    INFLATE_JDK
  }

  static final class Row {
    final Kind kind;
    final String name;
    final String command;
    final List<double[]> runs = new ArrayList<>(); // wall, cpu, other cores
    long tarBytes = -1;
    String digest = "-";
    String diffId = "-";

    Row(Kind kind, String name, String command) {
      this.kind = kind;
      this.name = name;
      this.command = command;
    }

    double[] best() {
      return runs.stream().min((a, b) -> Double.compare(a[0], b[0])).orElseThrow();
    }

    double median() {
      return runs.stream().mapToDouble(r -> r[0]).sorted().toArray()[runs.size() / 2];
    }

    boolean transcode() {
      return kind == Kind.PIPELINE || kind == Kind.TRANSCODE_NATIVE || kind == Kind.TRANSCODE_JDK;
    }
  }

  public static void main(String[] args) throws Exception {
    Path layer = null;
    int warmup = 1;
    int runs = 3;
    int level = 3;
    int workers = 2;
    int idleWait = 0;
    int clkTck = 100;
    double noiseCores = 0.3;
    int noiseRetries = 2;
    Path checks = null;
    List<Row> pipelines = new ArrayList<>();
    List<Row> inflatePipelines = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--level" -> level = Integer.parseInt(args[++i]);
        case "--workers" -> workers = Integer.parseInt(args[++i]);
        case "--idle-wait" -> idleWait = Integer.parseInt(args[++i]);
        case "--clk-tck" -> clkTck = Integer.parseInt(args[++i]);
        case "--noise-cores" -> noiseCores = Double.parseDouble(args[++i]);
        case "--noise-retries" -> noiseRetries = Integer.parseInt(args[++i]);
        case "--checks" -> checks = Path.of(args[++i]);
        case "--pipeline" -> pipelines.add(new Row(Kind.PIPELINE, args[++i], args[++i]));
        case "--inflate-pipeline" ->
            inflatePipelines.add(new Row(Kind.INFLATE_PIPELINE, args[++i], args[++i]));
        default -> {
          if (args[i].startsWith("--") || layer != null) {
            throw new IllegalArgumentException("unknown argument " + args[i]);
          }
          layer = Path.of(args[i]);
        }
      }
    }
    if (layer == null || runs < 1 || warmup < 0) {
      ERR.println("usage: see the comment at the top of TranscodeBench.java");
      System.exit(2);
    }
    System.clearProperty(GzipInput.NATIVE_PROPERTY);
    String nativeImpl = GzipInput.implementation();
    boolean haveNative = GzipInput.usesNative();

    List<Row> rows = new ArrayList<>(pipelines);
    if (haveNative) {
      rows.add(new Row(Kind.TRANSCODE_NATIVE, "transship, ISA-L", null));
    }
    rows.add(new Row(Kind.TRANSCODE_JDK, "transship, java.util.zip", null));
    rows.addAll(inflatePipelines);
    if (haveNative) {
      rows.add(new Row(Kind.INFLATE_NATIVE, "GzipInput, ISA-L", null));
    }
    rows.add(new Row(Kind.INFLATE_JDK, "GzipInput, java.util.zip", null));

    ZstdTranscoder transcoder = new ZstdTranscoder(new ZstdOptions(level, workers));
    OperatingSystemMXBean os =
        (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    Path timeFile = Files.createTempFile("transcode-bench", ".time");
    try {
      for (int round = 0; round < warmup + runs; round++) {
        boolean measured = round >= warmup;
        double busy = waitIdle(idleWait, clkTck);
        ERR.printf(
            Locale.ROOT,
            "round %d/%d%s (others used %.2f cores just before)%n",
            round + 1,
            warmup + runs,
            measured ? "" : ", warm-up",
            busy);
        for (Row row : rows) {
          for (int attempt = 0; ; attempt++) {
            if (attempt > 0) {
              waitIdle(idleWait, clkTck);
            }
            double[] run = runOnce(row, layer, transcoder, os, timeFile, clkTck);
            ERR.printf(
                Locale.ROOT,
                "  %-28s %6.3f s wall %6.3f s cpu, others %.2f cores%s%n",
                row.name,
                run[0],
                run[1],
                run[2],
                attempt > 0 ? " (repeat " + attempt + ")" : "");
            if (!measured) {
              break;
            }
            row.runs.add(run);
            if (run[2] <= noiseCores || attempt >= noiseRetries) {
              break;
            }
          }
        }
      }
    } finally {
      Files.deleteIfExists(timeFile);
      System.clearProperty(GzipInput.NATIVE_PROPERTY);
    }
    report(rows, layer, level, workers, warmup, runs, nativeImpl, checks);
  }

  /** One timed run of a row: wall seconds, CPU seconds, cores used by other processes. */
  private static double[] runOnce(
      Row row, Path layer, ZstdTranscoder transcoder, OperatingSystemMXBean os, Path timeFile,
      int clkTck)
      throws IOException {
    long[] ticks0 = machineTicks();
    long cpu0 = os.getProcessCpuTime();
    long t0 = System.nanoTime();
    double cpu;
    switch (row.kind) {
      case PIPELINE, INFLATE_PIPELINE -> cpu = shell(row.command, timeFile);
      case TRANSCODE_NATIVE, TRANSCODE_JDK -> {
        setNative(row.kind == Kind.TRANSCODE_NATIVE);
        try (InputStream in = open(layer)) {
          TranscodeResult r =
              transcoder.transcode(
                  in, SourceCompression.GZIP, null, OutputStream.nullOutputStream());
          row.tarBytes = r.uncompressedSize();
          row.digest = r.digest().toString();
          row.diffId = r.diffId().toString();
        }
        cpu = -1;
      }
      case INFLATE_NATIVE, INFLATE_JDK -> {
        setNative(row.kind == Kind.INFLATE_NATIVE);
        row.tarBytes = inflate(layer);
        cpu = -1;
      }
      default -> throw new AssertionError(row.kind);
    }
    double wall = (System.nanoTime() - t0) / 1e9;
    if (cpu < 0) {
      cpu = (os.getProcessCpuTime() - cpu0) / 1e9;
    }
    long[] ticks1 = machineTicks();
    double machineCores = (ticks1[0] - ticks0[0]) / (double) clkTck / wall;
    return new double[] {wall, cpu, Math.max(0, machineCores - cpu / wall)};
  }

  private static void report(
      List<Row> rows,
      Path layer,
      int level,
      int workers,
      int warmup,
      int runs,
      String nativeImpl,
      Path checks)
      throws IOException {
    long tarBytes =
        rows.stream().filter(r -> r.tarBytes >= 0).findFirst().orElseThrow().tarBytes;
    Row zlib = rows.get(0).kind == Kind.PIPELINE ? rows.get(0) : null;
    Row isal = rows.size() > 1 && rows.get(1).kind == Kind.PIPELINE ? rows.get(1) : null;
    PrintStream out = System.out;
    out.printf(
        Locale.ROOT,
        "%d warm-up + %d measured rounds, every row once per round; best wall time of the"
            + " measured runs%n",
        warmup,
        runs);
    out.printf("ISA-L: %s%n%n", nativeImpl);
    String header =
        "%-30s %8s %8s %7s %9s %7s  %-12s %-12s%n".formatted(
            "gzip -> zstd -" + level + " (T" + workers + ")",
            "best s",
            "MB/s",
            "cpu s",
            "MB/cpu-s",
            "others",
            zlib == null ? "" : "vs " + zlib.name.split(" ")[0] + "|zstd",
            isal == null ? "" : "vs " + isal.name.split(" ")[0] + "|zstd");
    out.print(header);
    boolean inflateHeader = false;
    for (Row row : rows) {
      if (!row.transcode() && !inflateHeader) {
        inflateHeader = true;
        out.printf(
            "%n%-30s %8s %8s %7s %9s %7s%n",
            "decompression only", "best s", "MB/s", "cpu s", "MB/cpu-s", "others");
      }
      double[] best = row.best();
      String vsZlib = row.transcode() && zlib != null ? ratio(zlib, row) : "";
      String vsIsal = row.transcode() && isal != null ? ratio(isal, row) : "";
      out.printf(
          Locale.ROOT,
          "%-30s %8.3f %8.1f %7.2f %9.1f %7.2f  %-12s %-12s%n",
          row.name,
          best[0],
          tarBytes / 1e6 / best[0],
          best[1],
          tarBytes / 1e6 / best[1],
          best[2],
          vsZlib,
          vsIsal);
    }
    out.println();
    out.println(
        "MB = 10^6 bytes of uncompressed tar; vs = MB/s of the row / MB/s of that pipeline"
            + " (wall; > 1 = faster),");
    out.println(
        "  with the same ratio of MB per CPU-second in brackets; others = cores used by other"
            + " processes during the best run");
    if (checks != null) {
      StringBuilder lines = new StringBuilder();
      for (Row row : rows) {
        if (row.kind != Kind.PIPELINE && row.kind != Kind.INFLATE_PIPELINE) {
          String key = row.kind.name().toLowerCase(Locale.ROOT);
          lines.append(key).append(".tar_bytes ").append(row.tarBytes).append('\n');
          lines.append(key).append(".digest ").append(row.digest).append('\n');
          lines.append(key).append(".diff_id ").append(row.diffId).append('\n');
        }
      }
      lines.append("native ").append(rows.stream().anyMatch(r -> r.kind == Kind.TRANSCODE_NATIVE));
      lines.append('\n');
      Files.writeString(checks, lines);
    }
  }

  /** Speed ratio of {@code row} over {@code base}: wall, then per CPU-second in brackets. */
  private static String ratio(Row base, Row row) {
    double wall = base.best()[0] / row.best()[0];
    double cpu = base.best()[1] / row.best()[1];
    return String.format(Locale.ROOT, "%.2f (%.2f)", wall, cpu);
  }

  private static void setNative(boolean useNative) {
    if (useNative) {
      System.clearProperty(GzipInput.NATIVE_PROPERTY);
    } else {
      System.setProperty(GzipInput.NATIVE_PROPERTY, "false");
    }
  }

  private static InputStream open(Path layer) throws IOException {
    return new BufferedInputStream(Files.newInputStream(layer), 1 << 16);
  }

  private static long inflate(Path layer) throws IOException {
    byte[] buffer = new byte[128 * 1024];
    long total = 0;
    try (InputStream in = GzipInput.open(open(layer))) {
      for (int n = in.read(buffer); n != -1; n = in.read(buffer)) {
        total += n;
      }
    }
    return total;
  }

  /** Runs {@code bash -c command} under /usr/bin/time; returns its user+sys CPU seconds. */
  private static double shell(String command, Path timeFile) throws IOException {
    Process p =
        new ProcessBuilder(
                "/usr/bin/time",
                "-f",
                "%U %S",
                "-o",
                timeFile.toString(),
                "bash",
                "-c",
                "set -o pipefail; " + command)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    try {
      int exit = p.waitFor();
      if (exit != 0) {
        throw new IOException("exit status " + exit + ": " + command);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    String[] t = Files.readString(timeFile).trim().split("\\s+");
    return Double.parseDouble(t[t.length - 2]) + Double.parseDouble(t[t.length - 1]);
  }

  /** Busy and total ticks of the machine, from the first line of /proc/stat. */
  private static long[] machineTicks() throws IOException {
    String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
    // cpu user nice system idle iowait irq softirq steal ...; busy = user+nice+system+irq+softirq
    long busy =
        Long.parseLong(f[1])
            + Long.parseLong(f[2])
            + Long.parseLong(f[3])
            + Long.parseLong(f[6])
            + Long.parseLong(f[7]);
    long total = busy + Long.parseLong(f[4]) + Long.parseLong(f[5]);
    return new long[] {busy, total};
  }

  /**
   * Waits, up to {@code seconds}, until other processes use at most 0.25 cores (sampled over 1 s,
   * while this JVM idles); returns the last sample.
   */
  private static double waitIdle(int seconds, int clkTck) throws Exception {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (true) {
      long[] a = machineTicks();
      Thread.sleep(1000);
      long[] b = machineTicks();
      double busy = (b[0] - a[0]) / (double) clkTck;
      if (busy <= 0.25 || System.nanoTime() >= deadline) {
        return busy;
      }
    }
  }
}
