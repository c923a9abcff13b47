#!/usr/bin/env bash
# bench/ops/run.sh — what the operability work costs and saves, against the commit before it,
# measured in one run (see bench/ops/README.md):
#   1. cached manifest GETs (req/s, wrk) with the richer access log + histograms vs BASE's jar;
#   2. wall time of `transship resolve` (bin/transship + bin/find-jdk + JVM start) vs BASE's.
#
#   bench/ops/run.sh                      # BASE=b961358 DURATION=8 ROUNDS=2 CONNS=8 RESOLVES=5
# Needs: wrk, python3, curl, git, mvn (to build BASE's jar once; cached in bench/out/ops/).
set -euo pipefail
BASE=${BASE:-b961358}
DURATION=${DURATION:-8}
ROUNDS=${ROUNDS:-2}
CONNS=${CONNS:-8}
RESOLVES=${RESOLVES:-5}     # 0: skip the resolve timing
LOG_LEVEL=${LOG_LEVEL:-INFO} # WARN drops the access log: the cost of everything else
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$REPO/bench/out/ops"
TMP="$(mktemp -d)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
log() { printf '[ops-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
for tool in wrk python3 curl git mvn; do command -v $tool >/dev/null || { echo "missing $tool" >&2; exit 2; }; done
mkdir -p "$OUT"
JDK="$("$REPO/bin/find-jdk")"
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# --- the two builds ---------------------------------------------------------------------------
BASE_TREE="$OUT/base-$BASE"
if [[ ! -f $BASE_TREE/proxy-server/target/transship.jar ]]; then
  log "building $BASE's jar (once)"
  rm -rf "$BASE_TREE"; mkdir -p "$BASE_TREE"
  git -C "$REPO" archive "$BASE" | tar -x -C "$BASE_TREE"
  JAVA_HOME="$JDK" mvn -B -q -o -f "$BASE_TREE/pom.xml" -pl proxy-server -am package -DskipTests \
    -Dspotless.check.skip=true >"$OUT/base-build.log" 2>&1
fi
NEW_JAR="$REPO/proxy-server/target/transship.jar"
[[ -f $NEW_JAR ]] || { echo "build this tree first: mvn -B -q package -DskipTests" >&2; exit 2; }

# --- the upstream ----------------------------------------------------------------------------
UP=$(free_port)
python3 "$HERE/registry_stub.py" "$UP" & PIDS+=($!)
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$UP/v2/" >/dev/null && break; sleep 0.1; done

# start_proxy NAME JAR → sets PORT ADMIN, appends the pid
start_proxy() {
  local name=$1 jar=$2
  PORT=$(free_port); ADMIN=$(free_port)
  mkdir -p "$TMP/$name"
  cat >"$TMP/$name/t.yaml" <<YAML
listen: 127.0.0.1:$PORT
admin: { listen: 127.0.0.1:$ADMIN }
storage: { filesystem: { root: "$TMP/$name/data" } }
cache: { tag-ttl: 1h }
default-upstream: lab
upstreams:
  lab: { url: "http://127.0.0.1:$UP", format: none, max-attempts: 1 }
YAML
  TRANSSHIP_LOG_LEVEL=$LOG_LEVEL "$JDK/bin/java" -XX:+UseZGC -jar "$jar" serve --config "$TMP/$name/t.yaml" \
    >"$TMP/$name/log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 200); do curl -fs "http://127.0.0.1:$ADMIN/readyz" >/dev/null && return 0; sleep 0.1; done
  echo "proxy $name did not start: $(tail -5 "$TMP/$name/log")" >&2; exit 1
}

URL_PATH=/v2/lab/bench/app/manifests/latest
ACCEPT='Accept: application/vnd.oci.image.manifest.v1+json'
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
measure() { # $1 port, $2 server pid → prints "req/s cpu-µs-per-request" of one wrk run
  local before after out
  before=$(cpu_ticks "$2")
  out=$(wrk -t1 -c"$CONNS" -d"${DURATION}s" -H "$ACCEPT" "http://127.0.0.1:$1$URL_PATH")
  after=$(cpu_ticks "$2")
  awk -v ticks=$((after - before)) -v hz="$CLK_TCK" '
    / requests in /{n=$1} /Requests\/sec/{r=$2}
    END{printf "%s %.1f\n", r, ticks / hz * 1e6 / n}' <<<"$out"
}

# one proxy at a time (a second idle JVM competes for 2 cores with GC and JIT threads), in ABBA
# order so that drift in the machine's load hits both builds alike
run_one() { # $1 = base|new → echoes req/s
  local name=$1 jar
  if [[ $name == base ]]; then jar="$BASE_TREE/proxy-server/target/transship.jar"; else jar="$NEW_JAR"; fi
  rm -rf "$TMP/$name"
  start_proxy "$name" "$jar"
  curl -fs -H "$ACCEPT" "http://127.0.0.1:$PORT$URL_PATH" >/dev/null   # cache the manifest
  wrk -t1 -c"$CONNS" -d3s -H "$ACCEPT" "http://127.0.0.1:$PORT$URL_PATH" >/dev/null  # warm the JIT
  measure "$PORT" "${PIDS[-1]}"
  kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true; unset 'PIDS[-1]'
}
base_runs=(); new_runs=(); base_cpu=(); new_cpu=(); ratios=()
for r in $(seq "$ROUNDS"); do
  if (( r % 2 )); then order=(base new); else order=(new base); fi
  for name in "${order[@]}"; do
    read -r v c <<<"$(run_one "$name")"
    if [[ $name == base ]]; then base_runs+=("$v"); base_cpu+=("$c"); else new_runs+=("$v"); new_cpu+=("$c"); fi
  done
  ratios+=("$(awk -v a="${new_runs[-1]}" -v b="${base_runs[-1]}" 'BEGIN{printf "%.2f", a/b}')")
  log "round $r (${order[*]}): base ${base_runs[-1]} req/s ${base_cpu[-1]} µs CPU/req, new ${new_runs[-1]} req/s ${new_cpu[-1]} µs CPU/req, new/base ${ratios[-1]}"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
BC=$(median "${base_cpu[@]}"); NC=$(median "${new_cpu[@]}"); MR=$(median "${ratios[@]}")
best() { printf '%s\n' "$@" | sort -g | tail -1; }
B=$(best "${base_runs[@]}"); N=$(best "${new_runs[@]}")

# --- resolve wall time ------------------------------------------------------------------------
if [[ $RESOLVES -eq 0 ]]; then
  echo "ops benchmark $(date -u +%FT%TZ) base=$BASE new=$(git -C "$REPO" rev-parse --short HEAD) load=$(cut -d' ' -f1 /proc/loadavg) log=$LOG_LEVEL: cached manifest GET best base $B req/s, new $N req/s, new/base $(awk -v a="$N" -v b="$B" 'BEGIN{printf "%.2f", a/b}'); median per-round new/base $MR; median CPU/request base $BC µs, new $NC µs, new/base $(awk -v a="$NC" -v b="$BC" 'BEGIN{printf "%.2f", a/b}')" | tee -a "$OUT/results.txt"
  exit 0
fi
IMAGE=lab/bench/app:latest
time_resolve() { # $1 = repo dir whose bin/transship to run, $2 admin port; prints median ms
  local ms=()
  for _ in $(seq "$RESOLVES"); do
    local t0 t1
    t0=$(date +%s%N)
    "$1/bin/transship" resolve --admin "http://127.0.0.1:$2" "$IMAGE" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    ms+=($(( (t1 - t0) / 1000000 )))
  done
  printf '%s\n' "${ms[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'
}
start_proxy base "$BASE_TREE/proxy-server/target/transship.jar"; BASE_ADMIN=$ADMIN
start_proxy new "$NEW_JAR"; NEW_ADMIN=$ADMIN
# the base tree's find-jdk has no cache; the new one fills its cache on the first call
"$REPO/bin/find-jdk" >/dev/null
RB=$(time_resolve "$BASE_TREE" "$BASE_ADMIN")
RN=$(time_resolve "$REPO" "$NEW_ADMIN")
FB=$( { t0=$(date +%s%N); "$BASE_TREE/bin/find-jdk" >/dev/null; t1=$(date +%s%N); echo $(( (t1-t0)/1000000 )); } )
FN=$( { t0=$(date +%s%N); "$REPO/bin/find-jdk" >/dev/null; t1=$(date +%s%N); echo $(( (t1-t0)/1000000 )); } )

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
{
  echo "ops benchmark $(date -u +%FT%TZ) base=$BASE new=$(git -C "$REPO" rev-parse --short HEAD) cores=$(nproc) load=$(cut -d' ' -f1 /proc/loadavg)"
  echo "cached manifest GET (log $LOG_LEVEL), wrk -c$CONNS ${DURATION}s x$ROUNDS: best base $B req/s, new $N req/s, new/base $(ratio "$N" "$B"); median per-round new/base $MR"
  echo "server CPU per cached manifest GET (median): base $BC µs, new $NC µs, new/base $(ratio "$NC" "$BC")"
  echo "transship resolve wall time (median of $RESOLVES): base ${RB} ms, new ${RN} ms, new/base $(ratio "$RN" "$RB")"
  echo "bin/find-jdk alone: base ${FB} ms, new ${FN} ms (cached)"
} | tee -a "$OUT/results.txt"
