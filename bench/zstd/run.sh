#!/usr/bin/env bash
# run.sh — gzip→zstd transcode throughput of transship against two C pipelines on the same layer,
# and the peak RSS of converting a >= 1 GiB layer with -Xmx256m. See bench/zstd/README.md.
#
#   bench/zstd/run.sh                      # default layer (below) and proxy-server/target/transship.jar
#   bench/zstd/run.sh LAYER.tar.gz [JAR]
#
# Environment knobs:
#   RUNS        measured rounds (every row once per round), best-of              (default 3)
#   WARMUP      unrecorded rounds before them                                    (default 1)
#   IDLE_WAIT   seconds to wait, before each round and each repeat, for other processes to use
#               <= 0.25 cores (default 0: just record how many cores they used during each run)
#   NOISE_CORES a run during which other processes used more cores than this is repeated (0.3)
#   NOISE_RETRIES  how often a noisy run is repeated; every attempt counts, best wins (default 2)
#   LEVEL       zstd level, for zstd(1) and transship                            (default 3)
#   THREADS     zstd threads: zstd -T and transship's zstd workers               (default 2)
#   BIG_COPIES  copies of the layer's tar in the RSS layer, gzip -1              (default 8)
#   RSS_XMX     the converter's heap for the RSS runs                            (default 256m)
#   SKIP_RSS=1  skip the big layer
#   CACHE_DIR   where the big layer is kept between runs   (default ${TMPDIR:-/tmp}/transship-bench-zstd)
#
# Exit status: 0 when every check passed; 1 when a check failed (different bytes, digests that do
# not match, a failed run); 2 on a usage/setup problem.
set -euo pipefail

DEFAULT_LAYER=/tmp/lab-clients/images/oci/blobs/sha256/7967db3f52696fe26c0a5647f266409984bccf4c4e1e140f77c67a91af83cab7
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-1}
LEVEL=${LEVEL:-3}
THREADS=${THREADS:-2}
BIG_COPIES=${BIG_COPIES:-8}
RSS_XMX=${RSS_XMX:-256m}
SKIP_RSS=${SKIP_RSS:-0}
IDLE_WAIT=${IDLE_WAIT:-0}
NOISE_CORES=${NOISE_CORES:-0.3}
NOISE_RETRIES=${NOISE_RETRIES:-2}
CACHE_DIR=${CACHE_DIR:-${TMPDIR:-/tmp}/transship-bench-zstd}

log()  { printf '[zstd-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die()  { printf '[zstd-bench] FATAL: %s\n' "$*" >&2; exit 2; }
FAILED=0
fail() { printf '\n[zstd-bench] !!!!!!!! CHECK FAILED: %s\n' "$*" >&2; FAILED=1; }

LAYER=${1:-}
if [[ -z $LAYER ]]; then
  [[ -f $DEFAULT_LAYER ]] || die "no layer given and the default $DEFAULT_LAYER is absent; usage: $0 LAYER.tar.gz [JAR]"
  LAYER=$DEFAULT_LAYER
fi
[[ -f $LAYER ]] || die "no such layer: $LAYER"
JAR=${2:-$HERE/../../proxy-server/target/transship.jar}
[[ -f $JAR ]] || die "no transship jar at $JAR (mvn -B -o -pl proxy-server -am package -DskipTests)"
JAR=$(cd "$(dirname "$JAR")" && pwd)/$(basename "$JAR")
[[ $RUNS =~ ^[1-9][0-9]*$ && $WARMUP =~ ^[0-9]+$ ]] || die "RUNS must be >= 1, WARMUP >= 0"

if ! command -v igzip >/dev/null 2>&1; then
  log "igzip missing: installing the Debian package isal"
  if [[ $(id -u) -eq 0 ]]; then
    apt-get install -y -q isal >/dev/null || die "apt-get install isal failed"
  else
    sudo apt-get install -y -q isal >/dev/null || die "apt-get install isal failed"
  fi
fi
for tool in gzip igzip zstd sha256sum awk wc getconf; do
  command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool"
done
[[ -x /usr/bin/time ]] || die "missing /usr/bin/time (Debian package time)"
JDK="$("$REPO/bin/find-jdk")" || die "no JDK >= 25"
JAVA=("$JDK/bin/java" --enable-native-access=ALL-UNNAMED)

W=$(mktemp -d "${TMPDIR:-/tmp}/transship-zstd-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
OUT_DIR="$REPO/bench/out"
mkdir -p "$OUT_DIR"
REPORT="$OUT_DIR/zstd-transcode-$(date +%Y%m%d-%H%M%S).txt"

# ------------------------------------------------------------------------------ the layer itself
log "layer: $LAYER ($(stat -c %s "$LAYER") bytes gzip)"
DIFF_ID="sha256:$(gzip -dc "$LAYER" | sha256sum | cut -d' ' -f1)"
TAR_BYTES=$(gzip -dc "$LAYER" | wc -c)
log "tar: $TAR_BYTES bytes, diff_id $DIFF_ID"
(( TAR_BYTES >= 100000000 )) || log "warning: the tar is under 100 MB; figures will be noisy"

# ------------------------------------------------ C pipelines and transship, interleaved rounds
log "compiling TranscodeBench against $JAR"
"$JDK/bin/javac" -nowarn -cp "$JAR" -d "$W/classes" "$HERE/TranscodeBench.java" \
  || die "javac TranscodeBench failed"
Q=$(printf '%q' "$LAYER")
log "timing: $WARMUP warm-up + $RUNS measured rounds; each round runs every row once"
"${JAVA[@]}" -cp "$JAR:$W/classes" TranscodeBench "$LAYER" --warmup "$WARMUP" --runs "$RUNS" \
  --level "$LEVEL" --workers "$THREADS" --idle-wait "$IDLE_WAIT" --noise-cores "$NOISE_CORES" --noise-retries "$NOISE_RETRIES" --clk-tck "$(getconf CLK_TCK)" \
  --checks "$W/checks" \
  --pipeline "gzip -dc | zstd -$LEVEL -T$THREADS" "gzip -dc $Q | zstd -$LEVEL -T$THREADS -q -c" \
  --pipeline "igzip -dc | zstd -$LEVEL -T$THREADS" "igzip -dc $Q | zstd -$LEVEL -T$THREADS -q -c" \
  --inflate-pipeline "gzip -dc" "gzip -dc $Q" \
  --inflate-pipeline "igzip -dc" "igzip -dc $Q" \
  >"$W/table.txt" || fail "TranscodeBench failed"
check() { awk -v k="$1" '$1 == k { print $2 }' "$W/checks"; }
[[ $(check native) == true ]] || fail "ISA-L is not available to the JVM (see the table header)"
for key in transcode_native transcode_jdk; do
  [[ $(check $key.tar_bytes) == "$TAR_BYTES" ]] || fail "$key: tar size $(check $key.tar_bytes) != $TAR_BYTES"
  [[ $(check $key.diff_id) == "$DIFF_ID" ]] || fail "$key: diff_id differs from sha256(gzip -dc)"
done
for key in inflate_native inflate_jdk; do
  [[ $(check $key.tar_bytes) == "$TAR_BYTES" ]] || fail "$key: size $(check $key.tar_bytes) != $TAR_BYTES"
done
NATIVE_DIGEST=$(check transcode_native.digest)
[[ $NATIVE_DIGEST == "$(check transcode_jdk.digest)" ]] || fail "the zstd blobs of the two inflaters differ"

# --------------------------------------------------------------- the CLI, as a check (one run)
log "transship convert (CLI, JVM startup included), ISA-L and java.util.zip"
declare -A CLI_S
for mode in native jdk; do
  flag=(); [[ $mode == jdk ]] && flag=(-Dtransship.gzip.native=false)
  /usr/bin/time -f '%e' -o "$W/time" "${JAVA[@]}" "${flag[@]}" -jar "$JAR" convert --level "$LEVEL" \
    --threads "$THREADS" "$LAYER" "$W/cli-$mode.zst" >"$W/cli-$mode.txt" 2>"$W/cli-$mode.err" \
    || { fail "transship convert ($mode) failed: $(tail -5 "$W/cli-$mode.err")"; continue; }
  CLI_S[$mode]=$(cat "$W/time")
  read -r digest _ <"$W/cli-$mode.txt"
  [[ $digest == "$NATIVE_DIGEST" ]] || fail "CLI $mode digest $digest != in-process $NATIVE_DIGEST"
  [[ "sha256:$(sha256sum <"$W/cli-$mode.zst" | cut -d' ' -f1)" == "$digest" ]] || fail "CLI $mode: file digest differs from the printed one"
done
RT="sha256:$(zstd -dc -q "$W/cli-native.zst" | sha256sum | cut -d' ' -f1)"
[[ $RT == "$DIFF_ID" ]] || fail "zstd -dc of transship's output does not give the layer's tar back"
rm -f "$W"/cli-*.zst

# ------------------------------------------------------------------ peak RSS, >= 1 GiB layer
declare -A RSS_KB RSS_S RSS_CPU
if [[ $SKIP_RSS != 1 ]]; then
  mkdir -p "$CACHE_DIR"
  BIG="$CACHE_DIR/$(basename "$LAYER" | cut -c1-16)-x$BIG_COPIES.tar.gz"
  if [[ ! -s $BIG ]]; then
    log "making $BIG: the tar $BIG_COPIES times, gzip -1 (once; kept for later runs)"
    for ((i = 0; i < BIG_COPIES; i++)); do gzip -dc "$LAYER"; done | gzip -1 >"$BIG.part"
    mv "$BIG.part" "$BIG"
  fi
  BIG_TAR=$((TAR_BYTES * BIG_COPIES))
  log "peak RSS: transship convert -Xmx$RSS_XMX of $BIG ($BIG_TAR bytes of tar)"
  for mode in native jdk; do
    flag=(); [[ $mode == jdk ]] && flag=(-Dtransship.gzip.native=false)
    /usr/bin/time -v -o "$W/rss-$mode" "${JAVA[@]}" -Xmx"$RSS_XMX" "${flag[@]}" -jar "$JAR" convert \
      --level "$LEVEL" --threads "$THREADS" "$BIG" "$W/big-$mode.zst" >"$W/big-$mode.txt" 2>"$W/big-$mode.err" \
      || { fail "big convert ($mode) failed: $(tail -5 "$W/big-$mode.err")"; continue; }
    RSS_KB[$mode]=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$W/rss-$mode")
    RSS_S[$mode]=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$W/rss-$mode")
    RSS_CPU[$mode]=$(awk -F': ' '/(User|System) time \(seconds\)/ {s += $2} END {print s}' "$W/rss-$mode")
    rm -f "$W/big-$mode.zst"
  done
  if [[ -n ${RSS_KB[native]:-} && -n ${RSS_KB[jdk]:-} ]]; then
    [[ $(cut -d' ' -f1 "$W/big-native.txt") == $(cut -d' ' -f1 "$W/big-jdk.txt") ]] \
      || fail "big layer: native and jdk outputs differ"
  fi
fi

# ------------------------------------------------------------------------------------- report
{
  echo "# gzip -> zstd -$LEVEL (T$THREADS) transcode, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "layer   $LAYER"
  echo "        $(stat -c %s "$LAYER") bytes gzip, $TAR_BYTES bytes tar, diff_id $DIFF_ID"
  echo "machine $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
  echo "tools   $(gzip --version | head -1), $(zstd --version | head -1 | sed 's/^\*\*\* //;s/ \*\*\*$//'), isal $(dpkg-query -W -f '${Version}' isal 2>/dev/null || echo '?'), $("$JDK/bin/java" -version 2>&1 | head -1)"
  echo
  cat "$W/table.txt"
  echo
  echo "transship convert CLI, one run incl. JVM startup: ISA-L ${CLI_S[native]:--} s, java.util.zip ${CLI_S[jdk]:--} s; blob $NATIVE_DIGEST"
  if [[ $SKIP_RSS != 1 ]]; then
    echo
    echo "peak RSS, transship convert -Xmx$RSS_XMX, $BIG_COPIES x the tar = $BIG_TAR bytes ($(stat -c %s "$BIG") gzip -1):"
    for mode in native jdk; do
      kb=${RSS_KB[$mode]:-}
      printf '  %-16s %s\n' "$([[ $mode == native ]] && echo ISA-L || echo java.util.zip)" \
        "$([[ -n $kb ]] && awk -v k="$kb" -v s="${RSS_S[$mode]}" -v c="${RSS_CPU[$mode]}" -v b="$BIG_TAR" 'BEGIN { printf "%.0f MiB max RSS, %.1f s wall (%.0f MB/s incl. JVM startup), %.1f s cpu", k / 1024, s, b / 1e6 / s, c }' || echo FAILED)"
    done
  fi
  [[ $FAILED == 0 ]] && echo "checks: all passed (same tar size and diff_id, same blob from both inflaters, CLI = in-process, zstd -dc round trip)" \
    || echo "checks: FAILED (see above)"
} | tee "$REPORT"
log "report: $REPORT"
exit $FAILED
