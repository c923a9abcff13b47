#!/bin/bash
# eStargz writer benchmark: transship's EstargzTranscoder vs the reference converter
# (esgz-build = stargz-snapshotter's estargz.Build, Debian 0.12) on the same layer tar, at the same
# gzip levels and parallelism. Prints throughput (MB/s of uncompressed source tar) and blob sizes,
# and checks every blob with esgz-verify. See README.md.
#
#   bench/estargz/run.sh [LAYER]      LAYER: .tar or .tar.gz (default: the rig's Debian rootfs
#                                     layer, else a tar of /usr built with GNU tar)
# Environment: LEVELS (default "6 9"), PROCS (2), RUNS (3 warm runs per JVM, best counted),
# REPEAT (2: each tool runs this many times per level, alternating; best counted),
# BACKENDS ("libdeflate zlib"; transship's DEFLATE implementations), VERIFY (1).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
LEVELS="${LEVELS:-6 9}"
PROCS="${PROCS:-2}"
RUNS="${RUNS:-3}"
REPEAT="${REPEAT:-2}"
BACKENDS="${BACKENDS:-libdeflate zlib}"
VERIFY="${VERIFY:-1}"

oracle=""
for d in "$repo/../shared/tools/oracle" /work/shared/tools/oracle; do
  [ -x "$d/build.sh" ] && { oracle="$d"; break; }
done
[ -n "$oracle" ] || { echo "oracle tools (shared/tools/oracle) not found" >&2; exit 1; }
if [ ! -x "$oracle/bin/esgz-build" ] || [ ! -x "$oracle/bin/esgz-verify" ]; then
  "$oracle/build.sh"
fi

JDK="$("$repo/bin/find-jdk")"
export JAVA_HOME="$JDK"
if [ ! -d "$repo/converter/target/classes/io/transship/converter" ] \
   || [ -n "$(find "$repo/converter/src/main" -newer "$repo/converter/target/classes" -name '*.java' | head -1)" ]; then
  (cd "$repo" && mvn -B -q -o -pl converter -am compile)
fi
cp="$repo/converter/target/classes:$repo/oci-model/target/classes"

work="$(mktemp -d /tmp/estargz-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT

layer="${1:-}"
if [ -z "$layer" ]; then
  rig=/tmp/lab-clients/images/oci/blobs/sha256
  if [ -d "$rig" ]; then
    # the largest gzip layer of the rig's OCI layout: its debootstrap Debian rootfs
    layer="$(ls -S "$rig"/* | while read -r f; do
      if [ "$(head -c2 "$f" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then echo "$f"; break; fi
    done)"
  fi
fi
if [ -z "$layer" ]; then
  echo "no layer given and no rig layout: building one from /usr with GNU tar" >&2
  tar -C / --format=pax --numeric-owner -cf "$work/usr.tar" usr 2>/dev/null || true
  layer="$work/usr.tar"
fi
tarfile="$work/layer.tar"
if [ "$(head -c2 "$layer" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then
  gzip -dc "$layer" > "$tarfile"
else
  cp "$layer" "$tarfile"
fi
tarbytes=$(stat -c %s "$tarfile")
echo "layer:   $layer"
echo "tar:     $tarbytes bytes ($(awk -v b="$tarbytes" 'BEGIN{printf "%.1f", b/1e6}') MB), procs/threads: $PROCS"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo

verify() { # blob annotations-json diff-id
  [ "$VERIFY" = 1 ] || return 0
  if ! "$oracle/bin/esgz-verify" -annotations "$2" ${3:+-diff-id "$3"} -orig "$tarfile" "$1" > "$work/verify.txt"; then
    grep -E 'FAIL|RESULT' "$work/verify.txt" >&2
    echo "esgz-verify rejected $1" >&2
    exit 1
  fi
}

results="$work/results.txt"
: > "$results"
for level in $LEVELS; do
  for rep in $(seq "$REPEAT"); do
    start=$(date +%s.%N)
    "$oracle/bin/esgz-build" -level "$level" -procs "$PROCS" -json -o "$work/ref.blob" "$tarfile" > "$work/ref.json"
    end=$(date +%s.%N)
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.3f", b-a}')
    size=$(stat -c %s "$work/ref.blob")
    echo "esgz-build $level $secs $size" >> "$results"
    if [ "$rep" = 1 ]; then
      python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["annotations"]))' \
        "$work/ref.json" > "$work/ref.ann.json"
      verify "$work/ref.blob" "$work/ref.ann.json" ""
    fi
    for backend in $BACKENDS; do
      line=$("$JDK/bin/java" --enable-native-access=ALL-UNNAMED -Xmx1g \
        -Dtransship.estargz.deflate="$backend" -cp "$cp" "$here/EstargzBench.java" \
        "$tarfile" "$work/ts.blob" "$level" "$PROCS" "$RUNS")
      key=$(sed -E 's/.*key=([^ ]+).*/\1/' <<<"$line")
      secs=$(sed -E 's/.* seconds=([0-9.]+).*/\1/' <<<"$line")
      cold=$(sed -E 's/.*cold_seconds=([0-9.]+).*/\1/' <<<"$line")
      size=$(sed -E 's/.* size=([0-9]+).*/\1/' <<<"$line")
      diffid=$(sed -E 's/.*diffid=([^ ]+).*/\1/' <<<"$line")
      echo "$key $level $secs $size $cold" >> "$results"
      [ "$rep" = 1 ] && verify "$work/ts.blob" "$work/ts.blob.annotations.json" "$diffid"
    done
  done
done

# best time per (tool, level); sizes are deterministic
awk -v tb="$tarbytes" '
  { k = $1 " " $2; if (!(k in best) || $3 < best[k]) best[k] = $3; size[k] = $4;
    if ($5 != "" && (!(k in cold) || $5 < cold[k])) cold[k] = $5;
    if (!(k in seen)) { seen[k] = 1; order[n++] = k } }
  END {
    printf "%-36s %5s %8s %8s %8s %12s %9s %9s\n", "writer", "level", "best_s", "MB/s", "cold_s", "blob_bytes", "speed_x", "size_x"
    for (i = 0; i < n; i++) {
      k = order[i]; split(k, p, " "); ref = "esgz-build " p[2]
      printf "%-36s %5s %8.2f %8.1f %8s %12d %9.2f %9.3f\n", p[1], p[2], best[k], tb/1e6/best[k],
        (k in cold) ? sprintf("%.2f", cold[k]) : "-", size[k], best[ref]/best[k], size[k]/size[ref]
    }
  }' "$results"
echo
echo "speed_x: throughput relative to esgz-build at the same level (>1 = faster);"
echo "size_x: blob size relative to esgz-build at the same level (<1 = smaller)."
echo "transship times are the best warm in-JVM run (cold_s: the first run of a fresh JVM, JIT not"
echo "warmed, JVM start excluded); esgz-build times are whole-process wall times. All blobs were"
echo "checked with esgz-verify (-orig, -annotations, -diff-id) unless VERIFY=0."
