#!/usr/bin/env bash
# bench/s3/run.sh — transship on S3 storage vs filesystem storage, all on 127.0.0.1, in one run:
#   1. the time a second replica (empty local cache, same bucket) takes to serve an image the first
#      replica converted, vs that first conversion (wall time of skopeo copy);
#   2. cached blob GET throughput of a >= 50 MB blob: filesystem storage, S3 storage with a warm
#      local cache (wrk, and sequential curl GETs), S3 storage cold (first GET of a replica restarted
#      with a wiped local cache: the bytes stream from S3), S3Proxy itself as a reference.
# See bench/s3/README.md.
#
# Environment knobs:
#   DURATION / WARMUP   seconds of each measured wrk run / of the unrecorded run before it (10 / 3)
#   THREADS / CONNS     wrk -t / -c                                              (1 / 4)
#   LAYER_MIB           MiB of random data in the big layer                      (64)
#   SEQ_GETS            sequential curl GETs per warm target                     (5)
#   COLD_RUNS           cold GETs, each by a replica restarted with an empty cache (3)
#   PART_SIZE           transship storage.s3.part-size                           (16MiB, the default)
#   TRANSSHIP_JAR       jar to benchmark (copied first)  (proxy-server/target/transship.jar)
#   S3PROXY_JAR         S3Proxy 4.1.0 jar-with-dependencies (~/.m2/..., else fetched with mvn)
#   TRANSSHIP_JAVA_OPTS extra JVM flags for transship
#   IDLE_WAIT           seconds to wait for the machine to go idle before measuring (0: sample only)
#   NOISE_CORES         a wrk run during which other processes used more cores is "noisy" (0.3)
#   NOISE_RETRIES       how often a noisy wrk run is repeated; the least noisy is kept (2)
#   KEEP_TMP=1          keep the temp dir (configs, logs, storage)
#
# Exit status: 0 when every check passed; 1 when a measured run failed a check; 2 on a setup problem.
set -euo pipefail

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
THREADS=${THREADS:-1}
CONNS=${CONNS:-4}
LAYER_MIB=${LAYER_MIB:-64}
SEQ_GETS=${SEQ_GETS:-5}
COLD_RUNS=${COLD_RUNS:-3}
PART_SIZE=${PART_SIZE:-16MiB}
NOISE_CORES=${NOISE_CORES:-0.3}
NOISE_RETRIES=${NOISE_RETRIES:-2}

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT_DIR="$REPO/bench/out"   # git-ignored, shared with bench/proxy-throughput.sh
JAR_SRC=${TRANSSHIP_JAR:-$REPO/proxy-server/target/transship.jar}
S3PROXY_VERSION=4.1.0
S3PROXY_JAR=${S3PROXY_JAR:-$HOME/.m2/repository/org/gaul/s3proxy/$S3PROXY_VERSION/s3proxy-$S3PROXY_VERSION-jar-with-dependencies.jar}
ACCESS_KEY=bench-access-key
SECRET_KEY=bench-secret-key
BUCKET=transship-bench
PREFIX=run1/
IMAGE_REPO=bench/s3
IMAGE_TAG=latest
MANIFEST_TYPE=application/vnd.oci.image.manifest.v1+json
ZSTD_TYPE=application/vnd.oci.image.layer.v1.tar+zstd

log()  { printf '[bench-s3 %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die()  { printf '\n[bench-s3] FATAL: %s\n' "$*" >&2; exit 2; }
loud() { printf '\n[bench-s3] !!!!!!!! %s\n' "$*" >&2; }

for tool in docker-registry wrk skopeo curl jq sha256sum gzip tar ss awk timeout; do
  command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool"
done
[[ -f $JAR_SRC ]] || die "no transship jar at $JAR_SRC (build it: mvn -pl proxy-server -am package -DskipTests)"
JDK="$("$REPO/bin/find-jdk")" || die "no JDK >= 25"
JAVA=$JDK/bin/java
for n in DURATION THREADS CONNS LAYER_MIB SEQ_GETS COLD_RUNS; do
  [[ ${!n} =~ ^[0-9]+$ && ${!n} -ge 1 ]] || die "$n must be a positive integer"
done
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be an integer (seconds)"
CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------- temp dir, processes, cleanup
W=$(mktemp -d "${TMPDIR:-/tmp}/transship-bench-s3.XXXXXX")
declare -A PID=()
stop_proc() { # $1=name: SIGTERM, up to 15 s, then SIGKILL
  local name=$1 pid=${PID[$1]:-} n=0
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && (( n < 150 )); do sleep 0.1; n=$((n + 1)); done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) ignored SIGTERM for 15s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  unset "PID[$name]"
}
cleanup() {
  local rc=$? name
  set +e
  for name in "${!PID[@]}"; do stop_proc "$name"; done
  if [[ ${KEEP_TMP:-0} == 1 ]]; then log "kept temp dir $W"; else rm -rf "$W"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir -p "$W/logs" "$OUT_DIR"

# free TCP ports from 5300-5399, each handed out once per run; sets the named variables
NEXT_PORT=5300
pick_ports() {
  local var
  for var in "$@"; do
    while (( NEXT_PORT <= 5399 )) && [[ -n $(ss -Hltn "sport = :$NEXT_PORT" 2>/dev/null) ]]; do
      NEXT_PORT=$((NEXT_PORT + 1))
    done
    (( NEXT_PORT <= 5399 )) || die "no free port left in 5300-5399"
    printf -v "$var" '%s' "$NEXT_PORT"; NEXT_PORT=$((NEXT_PORT + 1))
  done
}

start() { # $1=name, rest = command; log in $W/logs/<name>.log (appended)
  local name=$1; shift
  "$@" >>"$W/logs/$name.log" 2>&1 </dev/null &
  PID[$name]=$!
}

wait_http() { # $1=name $2=url $3=seconds $4...=accepted codes
  local name=$1 url=$2 secs=$3; shift 3
  local deadline=$((SECONDS + secs)) code ok
  while (( SECONDS < deadline )); do
    kill -0 "${PID[$name]}" 2>/dev/null || { tail -n 40 "$W/logs/$name.log" >&2; die "$name exited during startup"; }
    code=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "$url" || true)
    for ok in "$@"; do [[ $code == "$ok" ]] && return 0; done
    sleep 0.1
  done
  tail -n 40 "$W/logs/$name.log" >&2
  die "$name not ready at $url after ${secs}s (last status '$code')"
}

cpu_ticks() { # utime+stime of one pid (threads included); empty when gone
  [[ -r /proc/$1/stat ]] || return 0
  awk '{ line = $0; sub(/^.*\) /, "", line); split(line, f, " "); print f[12] + f[13] }' "/proc/$1/stat"
}
wchar() { awk '/^wchar:/ { print $2 }' "/proc/$1/io"; }   # bytes a process wrote (sockets included)
# busy and total ticks of the whole machine (busy = user nice system irq softirq; steal is not
# ours), and irq+softirq alone: on loopback the kernel's packet processing for our own traffic is
# charged there, to no process
sys_ticks() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8, $7 + $8; exit }' /proc/stat; }
# user+sys CPU seconds of the reaped children of this shell, from a `times` dump
child_cpu() {
  awk 'NR==2 { s=0; for (i=1;i<=2;i++) { split($i,a,"m"); sub(/s$/,"",a[2]); s += a[1]*60 + a[2] } printf "%.3f\n", s }' "$1"
}
# IDLE_WAIT=N: wait up to N s for the machine to fall below 0.25 busy cores (2 s samples); sets IDLE_BUSY
wait_idle() {
  local deadline=$((SECONDS + ${IDLE_WAIT:-0})) b0 t0 b1 t1
  while :; do
    read -r b0 t0 < <(sys_ticks); sleep 2; read -r b1 t1 < <(sys_ticks)
    IDLE_BUSY=$(awk -v a="$b0" -v b="$b1" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / t / 2 }')
    awk -v x="$IDLE_BUSY" 'BEGIN { exit !(x <= 0.25) }' && return 0
    (( SECONDS < deadline )) || return 0
  done
}

# ---------------------------------------------------------------- 1. the image
log "temp dir $W"
log "building the image: a ${LAYER_MIB} MiB random layer and an 8 MiB one (gzip -1), OCI layout"
L=$W/layout; mkdir -p "$L/blobs/sha256"
put_blob() { # stdin -> blob in the layout; prints "digest size"
  local tmp=$W/blob.tmp hex
  cat > "$tmp"; hex=$(sha256sum "$tmp" | cut -d' ' -f1)
  mv "$tmp" "$L/blobs/sha256/$hex"; echo "sha256:$hex $(stat -c %s "$L/blobs/sha256/$hex")"
}
make_layer() { # $1=name $2=MiB -> "digest size diff_id"
  local d=$W/rootfs-$1 diff
  mkdir -p "$d"; head -c $(($2 * 1024 * 1024)) /dev/urandom > "$d/$1.bin"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$d" -cf "$W/$1.tar" "$1.bin"
  diff=$(sha256sum "$W/$1.tar" | cut -d' ' -f1)
  echo "$(gzip -1 -n -c "$W/$1.tar" | put_blob) sha256:$diff"
  rm -rf "$d" "$W/$1.tar"
}
read -r BIG_DIGEST BIG_SIZE BIG_DIFF < <(make_layer big "$LAYER_MIB")
read -r SMALL_DIGEST SMALL_SIZE SMALL_DIFF < <(make_layer small 8)
BIG_HEX=${BIG_DIGEST#sha256:}
SMALL_HEX=${SMALL_DIGEST#sha256:}
read -r CFG_DIGEST CFG_SIZE < <(printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["%s","%s"]}}' "$BIG_DIFF" "$SMALL_DIFF" | put_blob)
read -r MANIFEST_DIGEST MANIFEST_SIZE < <(printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s},{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
  "$MANIFEST_TYPE" "$CFG_DIGEST" "$CFG_SIZE" "$BIG_DIGEST" "$BIG_SIZE" "$SMALL_DIGEST" "$SMALL_SIZE" | put_blob)
printf '{"schemaVersion":2,"manifests":[{"mediaType":"%s","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
  "$MANIFEST_TYPE" "$MANIFEST_DIGEST" "$MANIFEST_SIZE" "$IMAGE_TAG" > "$L/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$L/oci-layout"
(( BIG_SIZE >= 50000000 )) || die "the big layer is only $BIG_SIZE bytes; raise LAYER_MIB"
log "big layer $BIG_DIGEST ($BIG_SIZE bytes), small layer $SMALL_DIGEST ($SMALL_SIZE bytes), manifest $MANIFEST_DIGEST"

# ---------------------------------------------------------------- 2. upstream registry, S3Proxy
pick_ports REG_PORT S3_PORT
mkdir -p "$W/registry/data"
cat > "$W/registry/config.yml" <<YAML
version: 0.1
log: {level: warn, accesslog: {disabled: true}, formatter: text}
storage:
  filesystem: {rootdirectory: $W/registry/data}
  cache: {blobdescriptor: inmemory}
  maintenance: {uploadpurging: {enabled: false}}
http: {addr: 127.0.0.1:$REG_PORT, secret: bench-s3}
YAML
log "starting docker-registry on :$REG_PORT"
start registry docker-registry serve "$W/registry/config.yml"
wait_http registry "http://127.0.0.1:$REG_PORT/v2/" 20 200
log "pushing the image with skopeo"
timeout 300 skopeo copy --quiet --dest-tls-verify=false "oci:$L:$IMAGE_TAG" \
  "docker://127.0.0.1:$REG_PORT/$IMAGE_REPO:$IMAGE_TAG" >"$W/logs/skopeo-push.log" 2>&1 \
  || { cat "$W/logs/skopeo-push.log" >&2; die "skopeo copy (push) failed"; }

if [[ ! -f $S3PROXY_JAR ]]; then
  log "S3Proxy jar not at $S3PROXY_JAR; fetching org.gaul:s3proxy:$S3PROXY_VERSION:jar-with-dependencies with mvn"
  mvn -B -q -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="org.gaul:s3proxy:$S3PROXY_VERSION:jar:jar-with-dependencies" -DoutputDirectory="$W" >&2 \
    || die "cannot fetch S3Proxy (set S3PROXY_JAR)"
  S3PROXY_JAR=$W/s3proxy-$S3PROXY_VERSION-jar-with-dependencies.jar
fi
S3_URL=http://127.0.0.1:$S3_PORT
mkdir -p "$W/s3/data"
cat > "$W/s3/s3proxy.conf" <<EOF
s3proxy.endpoint=$S3_URL
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$ACCESS_KEY
s3proxy.credential=$SECRET_KEY
s3proxy.ignore-unknown-headers=true
jclouds.provider=filesystem-nio2
jclouds.filesystem.basedir=$W/s3/data
EOF
log "starting S3Proxy $S3PROXY_VERSION (filesystem-nio2) on :$S3_PORT"
start s3proxy env LOG_LEVEL=warn "$JAVA" -Xmx1g -jar "$S3PROXY_JAR" --properties "$W/s3/s3proxy.conf"
wait_http s3proxy "$S3_URL/" 60 403 200
EMPTY_SHA=$(printf '' | sha256sum | cut -d' ' -f1)
s3curl() { # signed request to S3Proxy (SigV4; curl 7.88 needs x-amz-content-sha256 set by hand)
  curl -sS --aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
    -H "x-amz-content-sha256: $EMPTY_SHA" "$@"
}
code=$(s3curl -o "$W/logs/create-bucket.xml" -w '%{http_code}' -X PUT "$S3_URL/$BUCKET") || true
[[ $code == 200 ]] || { cat "$W/logs/create-bucket.xml" >&2; die "CreateBucket $BUCKET -> HTTP $code"; }
log "created bucket $BUCKET"

# ---------------------------------------------------------------- transship processes
cp "$JAR_SRC" "$W/transship.jar"
# $1=name $2=storage root (the local cache for S3) $3=s3|fs; picks new ports; sets PORT_<name>, ADMIN_<name>
start_transship() {
  local name=$1 root=$2 kind=$3 port admin s3yaml=""
  pick_ports port admin
  mkdir -p "$root"
  [[ $kind == s3 ]] && s3yaml=", s3: {bucket: $BUCKET, prefix: \"$PREFIX\", region: us-east-1, endpoint: \"$S3_URL\", path-style: true, access-key-id: $ACCESS_KEY, secret-access-key: $SECRET_KEY, part-size: $PART_SIZE, presign: {enabled: false, expiry: 5m}}"
  cat > "$W/$name.yaml" <<YAML
listen: 127.0.0.1:$port
admin: {listen: 127.0.0.1:$admin}
storage: {filesystem: {root: "$root", max-bytes: 20GiB}$s3yaml}
conversion: {deadline: 120s}
default-upstream: lab
upstreams: {lab: {url: "http://127.0.0.1:$REG_PORT", format: zstd}}
YAML
  echo "---- start $(date -Is) on :$port (admin :$admin), storage $kind, root $root" >> "$W/logs/$name.log"
  # shellcheck disable=SC2086
  start "$name" "$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseZGC ${TRANSSHIP_JAVA_OPTS:-} \
    -jar "$W/transship.jar" serve --config "$W/$name.yaml"
  printf -v "PORT_$name" '%s' "$port"; printf -v "ADMIN_$name" '%s' "$admin"
  wait_http "$name" "http://127.0.0.1:$admin/readyz" 90 200
  local ready; ready=$(curl -sS --max-time 5 "http://127.0.0.1:$admin/readyz")
  [[ $ready == ready ]] || die "$name /readyz says '$ready' (S3 not usable?); log: $W/logs/$name.log"
}
port_of()  { local v="PORT_$1"; echo "${!v}"; }
admin_of() { local v="ADMIN_$1"; echo "${!v}"; }
metric_sum() { # $1=name $2=metric name prefix $3=label filter -> sum of matching samples (0 if none)
  curl -fsS --max-time 5 "http://127.0.0.1:$(admin_of "$1")/metrics" \
    | awk -v m="$2" -v f="$3" 'index($0, m) == 1 && index($0, f) { v += $NF } END { printf "%d\n", v }'
}
conversions_started() { metric_sum "$1" 'transship_conversions_started_total{' 'format="zstd"'; }
blob_misses() { metric_sum "$1" 'transship_cache_lookups_total{' 'result="miss"'; }

# ---------------------------------------------------------------- 3. second replica vs first conversion
SKOPEO_POLICY=$W/policy.json
echo '{"default":[{"type":"insecureAcceptAnything"}]}' > "$SKOPEO_POLICY"
# skopeo copy SRC to a fresh oci: dir; sets T_COPY (wall seconds), PULLED_DIGEST, PULLED_LAYER_TYPES
timed_copy() { # $1=label $2=src host:port/repo
  local label=$1 src=$2 out=$W/pulls/$1 t0 t1
  mkdir -p "$W/pulls"; rm -rf "$out"
  t0=$(date +%s.%N)
  timeout 600 skopeo --policy "$SKOPEO_POLICY" copy --quiet --src-tls-verify=false \
    "docker://$src:$IMAGE_TAG" "oci:$out:$IMAGE_TAG" >"$W/logs/skopeo-$label.log" 2>&1 \
    || { cat "$W/logs/skopeo-$label.log" >&2; die "skopeo copy ($label) failed"; }
  t1=$(date +%s.%N)
  PULLED_DIGEST=$(jq -r '.manifests[0].digest' "$out/index.json")
  PULLED_LAYER_TYPES=$(jq -r '[.layers[].mediaType] | unique | join(",")' "$out/blobs/sha256/${PULLED_DIGEST#sha256:}")
  T_COPY=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
}

log "starting replica A (S3 storage, empty local cache, format zstd) and a filesystem-storage proxy"
start_transship a "$W/a/cache" s3
start_transship fs "$W/fs/data" fs

wait_idle
CONV_BUSY=$IDLE_BUSY
log "background load before the pulls: $CONV_BUSY busy cores of $(nproc)"
timed_copy direct "127.0.0.1:$REG_PORT/$IMAGE_REPO"; T_DIRECT=$T_COPY
log "skopeo copy straight from the upstream (gzip): ${T_DIRECT}s"
timed_copy a-first "127.0.0.1:$(port_of a)/lab/$IMAGE_REPO"; T_A1=$T_COPY
DIGEST_A=$PULLED_DIGEST
[[ $PULLED_LAYER_TYPES == "$ZSTD_TYPE" ]] || die "replica A served layers '$PULLED_LAYER_TYPES', expected only $ZSTD_TYPE (conversion did not finish within the deadline?)"
STARTED_A=$(conversions_started a)
(( STARTED_A == 2 )) || die "replica A started $STARTED_A conversions for the first pull, expected 2"
log "replica A, first pull (fetch from upstream + convert 2 layers + upload to S3): ${T_A1}s -> $DIGEST_A"
timed_copy a-second "127.0.0.1:$(port_of a)/lab/$IMAGE_REPO"; T_A2=$T_COPY
[[ $PULLED_DIGEST == "$DIGEST_A" ]] || die "replica A served $PULLED_DIGEST on the second pull, $DIGEST_A on the first"
log "replica A, second pull (local cache): ${T_A2}s"

log "starting replica B (same bucket and prefix, empty local cache)"
T_B_START0=$(date +%s.%N)
start_transship b "$W/b/cache" s3
T_B_START=$(awk -v a="$T_B_START0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f\n", b - a }')
timed_copy b-first "127.0.0.1:$(port_of b)/lab/$IMAGE_REPO"; T_B=$T_COPY
[[ $PULLED_DIGEST == "$DIGEST_A" ]] || die "replica B served $PULLED_DIGEST, replica A converted to $DIGEST_A"
[[ $PULLED_LAYER_TYPES == "$ZSTD_TYPE" ]] || die "replica B served layers '$PULLED_LAYER_TYPES'"
STARTED_B=$(conversions_started b)
(( STARTED_B == 0 )) || die "replica B started $STARTED_B conversions; it should have found A's in S3"
log "replica B, first pull (from S3, no conversion): ${T_B}s -> same digest; conversions started on B: $STARTED_B"
stop_proc b

# ---------------------------------------------------------------- 4. blob throughput
FAILURES=0
declare -A R=()
blob_url() { echo "http://127.0.0.1:$(port_of "$1")/v2/lab/$IMAGE_REPO/blobs/$2"; }

# GET with curl; checks 200, size, sha256. $1=label $2=url $3=size $4=hex; sets G_TIME G_TTFB (s)
verify_get() {
  local label=$1 url=$2 size=$3 hex=$4 f=$W/get.out meta got
  meta=$(curl -sS --max-time 300 -o "$f" -w '%{http_code} %{size_download} %{time_total} %{time_starttransfer}' "${@:5}" "$url") \
    || die "$label: GET $url failed"
  got=$(sha256sum "$f" | cut -d' ' -f1); rm -f "$f"
  read -r code bytes G_TIME G_TTFB <<<"$meta"
  [[ $code == 200 && $bytes == "$size" ]] || die "$label: GET $url -> HTTP $code, $bytes bytes; expected 200, $size bytes"
  [[ $got == "$hex" ]] || die "$label: GET $url body sha256 $got, expected $hex"
}

wait_local() { # $1=cache root $2=hex $3=size: until the blob is in the local cache (30 s)
  local f=$1/blobs/sha256/${2:0:2}/$2 n=0
  while (( n < 300 )); do
    [[ -f $f && $(stat -c %s "$f") == "$3" ]] && return 0
    sleep 0.1; n=$((n + 1))
  done
  die "blob $2 not in the local cache $1 after 30 s"
}

log "warming: the big blob through the filesystem proxy and replica A; waiting for both local copies"
for who in fs a; do
  verify_get "blob/$who (warm-up)" "$(blob_url "$who" "$BIG_DIGEST")" "$BIG_SIZE" "$BIG_HEX"
done
wait_local "$W/fs/data" "$BIG_HEX" "$BIG_SIZE"
wait_local "$W/a/cache" "$BIG_HEX" "$BIG_SIZE"

cat > "$W/summary.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d bytes=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99)))
end
LUA

wrk_run() { # $1=who (fs|a)
  local who=$1 url out=$W/logs/wrk-$1.txt rc=0 c0 c1 s0 s1 m0 m1 bench e problems=()
  url=$(blob_url "$who" "$BIG_DIGEST")
  if (( WARMUP > 0 )); then
    timeout $((WARMUP + 60)) wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" --timeout 30s -s "$W/summary.lua" "$url" >"$out.warmup" 2>&1 || true
  fi
  log "blob/$who: wrk -t$THREADS -c$CONNS -d${DURATION}s $url"
  local y0 y1 q0 q1 w0 w1
  m0=$(blob_misses "$who"); c0=$(cpu_ticks "${PID[$who]}"); s0=$(cpu_ticks "${PID[s3proxy]}")
  read -r y0 _ q0 < <(sys_ticks); times >"$W/times0"
  timeout $((DURATION + 60)) wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 30s -s "$W/summary.lua" "$url" >"$out" 2>&1 || rc=$?
  times >"$W/times1"; read -r y1 _ q1 < <(sys_ticks)
  c1=$(cpu_ticks "${PID[$who]}"); s1=$(cpu_ticks "${PID[s3proxy]}"); m1=$(blob_misses "$who")
  w0=$(child_cpu "$W/times0"); w1=$(child_cpu "$W/times1")
  sed 's/^/    | /' "$out" >&2
  bench=$(grep '^BENCH ' "$out" || true)
  (( rc == 0 )) || problems+=("wrk exited with status $rc")
  [[ -n $bench ]] || problems+=("no summary line from wrk")
  grep -q 'Non-2xx or 3xx responses' "$out" && problems+=("non-2xx responses")
  grep -q 'Socket errors' "$out" && problems+=("$(grep 'Socket errors' "$out" | sed 's/^ *//')")
  [[ -n $c1 ]] || problems+=("transship died during the run")
  (( m1 == m0 )) || problems+=("$((m1 - m0)) cache misses during the run")
  local requests=0 bytes=0 dur=1 p50=0 p99=0
  for e in $bench; do
    case $e in
      requests=*) requests=${e#*=} ;; bytes=*) bytes=${e#*=} ;; duration_us=*) dur=${e#*=} ;;
      p50_us=*) p50=${e#*=} ;; p99_us=*) p99=${e#*=} ;;
      connect=*|read=*|write=*|status=*|timeout=*) [[ ${e#*=} == 0 ]] || problems+=("wrk error counter $e") ;;
    esac
  done
  (( requests > 0 )) || problems+=("zero completed requests")
  (( bytes >= requests * BIG_SIZE )) || problems+=("only $bytes bytes for $requests responses of $BIG_SIZE bytes")
  (( bytes <= (requests + CONNS) * (BIG_SIZE + 4096) )) || problems+=("$bytes bytes is more than $requests responses can explain")
  if (( ${#problems[@]} > 0 )); then
    FAILURES=$((FAILURES + 1)); R[$who/status]=FAIL
    loud "blob/$who FAILED:"; printf '    - %s\n' "${problems[@]}" >&2
    tail -n 40 "$W/logs/$who.log" | sed 's/^/    /' >&2
  else
    R[$who/status]=ok
  fi
  R[$who/requests]=$requests
  R[$who/gbps]=$(awk -v b="$bytes" -v d="$dur" 'BEGIN { printf "%.3f", b / 1e9 / (d / 1e6) }')
  R[$who/p50]=$(awk -v u="$p50" 'BEGIN { printf "%.1f", u / 1000 }')
  R[$who/p99]=$(awk -v u="$p99" 'BEGIN { printf "%.1f", u / 1000 }')
  R[$who/cores]=$(awk -v a="$c0" -v b="${c1:-$c0}" -v t="$CLK_TCK" -v d="$dur" 'BEGIN { printf "%.2f", (b - a) / t / (d / 1e6) }')
  R[$who/s3cores]=$(awk -v a="$s0" -v b="${s1:-$s0}" -v t="$CLK_TCK" -v d="$dur" 'BEGIN { printf "%.2f", (b - a) / t / (d / 1e6) }')
  R[$who/wrkcores]=$(awk -v a="$w0" -v b="$w1" -v d="$dur" 'BEGIN { printf "%.2f", (b - a) / (d / 1e6) }')
  R[$who/irq]=$(awk -v a="$q0" -v b="$q1" -v t="$CLK_TCK" -v d="$dur" 'BEGIN { printf "%.2f", (b - a) / t / (d / 1e6) }')
  # everything else the machine did meanwhile (busy - irq/softirq - transship - S3Proxy - wrk): the noise
  R[$who/other]=$(awk -v y0="$y0" -v y1="$y1" -v q="$(( q1 - q0 ))" -v t="$CLK_TCK" -v d="$dur" -v c="$(( ${c1:-$c0} - c0 ))" \
    -v s="$(( ${s1:-$s0} - s0 ))" -v w="$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')" \
    'BEGIN { x = d / 1e6; o = ((y1 - y0) - q - c - s) / t / x - w / x; if (o < 0) o = 0; printf "%.2f", o }')
}
# a run during which the rest of the machine used more than NOISE_CORES cores is repeated (up to
# NOISE_RETRIES times, after waiting for idle as IDLE_WAIT allows); the least noisy attempt is kept
FIELDS="status requests gbps p50 p99 cores s3cores wrkcores irq other"
NOISY=0
wrk_target() { # $1=who
  local who=$1 attempt best="" f failures_before
  declare -A keep=()
  for (( attempt = 0; attempt <= NOISE_RETRIES; attempt++ )); do
    (( attempt == 0 )) || log "blob/$who: other processes used ${R[$who/other]} cores; repeating (attempt $((attempt + 1)))"
    wait_idle
    failures_before=$FAILURES
    wrk_run "$who"
    (( FAILURES == failures_before )) || return 0
    if [[ -z $best ]] || awk -v a="${R[$who/other]}" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=${R[$who/other]}
      for f in $FIELDS; do keep[$f]=${R[$who/$f]}; done
    fi
    awk -v o="${R[$who/other]}" -v n="$NOISE_CORES" 'BEGIN { exit !(o > n) }' || break
  done
  for f in $FIELDS; do R[$who/$f]=${keep[$f]}; done
  if awk -v o="$best" -v n="$NOISE_CORES" 'BEGIN { exit !(o > n) }'; then
    R[$who/status]=noisy; NOISY=$((NOISY + 1))
  fi
}
wait_idle
START_BUSY=$IDLE_BUSY
log "background load before measuring: $START_BUSY busy cores of $(nproc)"
wrk_target fs
wrk_target a

# sequential GETs, one at a time: $1=key $2..=verify_get args; sets S[key/...]
declare -A S=()
seq_gets() { # $1=key $2=count $3=url $4...=extra curl args
  local key=$1 count=$2 url=$3 i total=0 best=0 ttfb=0 mbps
  shift 3
  for (( i = 1; i <= count; i++ )); do
    verify_get "$key #$i" "$url" "$BIG_SIZE" "$BIG_HEX" "$@"
    total=$(awk -v a="$total" -v b="$G_TIME" 'BEGIN { print a + b }')
    ttfb=$(awk -v a="$ttfb" -v b="$G_TTFB" 'BEGIN { print a + b }')
    mbps=$(awk -v s="$BIG_SIZE" -v t="$G_TIME" 'BEGIN { printf "%.1f", s / 1e6 / t }')
    best=$(awk -v a="$best" -v b="$mbps" 'BEGIN { print (b > a ? b : a) }')
  done
  S[$key/n]=$count
  S[$key/secs]=$(awk -v t="$total" -v n="$count" 'BEGIN { printf "%.3f", t / n }')
  S[$key/mbps]=$(awk -v s="$BIG_SIZE" -v t="$total" -v n="$count" 'BEGIN { printf "%.1f", s * n / 1e6 / t }')
  S[$key/best]=$best
  S[$key/ttfb]=$(awk -v t="$ttfb" -v n="$count" 'BEGIN { printf "%.1f", t / n * 1000 }')
}
wait_idle
COLD_BUSY=$IDLE_BUSY
log "background load before the sequential GETs: $COLD_BUSY busy cores of $(nproc)"
log "sequential GETs: $SEQ_GETS x filesystem, $SEQ_GETS x S3 warm, $SEQ_GETS x S3Proxy direct"
seq_gets fs "$SEQ_GETS" "$(blob_url fs "$BIG_DIGEST")"
seq_gets a "$SEQ_GETS" "$(blob_url a "$BIG_DIGEST")"
seq_gets s3 "$SEQ_GETS" "$S3_URL/$BUCKET/${PREFIX}blobs/sha256/${BIG_HEX:0:2}/$BIG_HEX" \
  --aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS_KEY:$SECRET_KEY" -H "x-amz-content-sha256: $EMPTY_SHA"

# cold: a replica restarted with a wiped local cache; one small cold GET first warms the JIT on the
# S3 read path, then the timed GET of the big blob streams from S3 (the cache fills behind it)
log "cold GETs: $COLD_RUNS x (restart replica B with an empty cache, GET the 8 MiB layer, time a GET of the big one)"
cold_total=0 cold_ttfb=0 cold_best=0 COLD_LIST="" EGRESS_LIST=""
for (( i = 1; i <= COLD_RUNS; i++ )); do
  rm -rf "$W/b/cache"
  start_transship b "$W/b/cache" s3
  verify_get "cold #$i small" "$(blob_url b "$SMALL_DIGEST")" "$SMALL_SIZE" "$SMALL_HEX"
  wait_local "$W/b/cache" "$SMALL_HEX" "$SMALL_SIZE"
  [[ ! -e $W/b/cache/blobs/sha256/${BIG_HEX:0:2}/$BIG_HEX ]] || die "cold #$i: big blob already in the local cache"
  m0=$(blob_misses b); s0=$(cpu_ticks "${PID[s3proxy]}"); x0=$(wchar "${PID[s3proxy]}")
  verify_get "cold #$i big" "$(blob_url b "$BIG_DIGEST")" "$BIG_SIZE" "$BIG_HEX"
  s1=$(cpu_ticks "${PID[s3proxy]}"); m1=$(blob_misses b)
  wait_local "$W/b/cache" "$BIG_HEX" "$BIG_SIZE"   # the background fill, done
  x1=$(wchar "${PID[s3proxy]}")
  egress=$(awk -v a="$x0" -v b="$x1" -v s="$BIG_SIZE" 'BEGIN { printf "%.2f", (b - a) / s }')
  EGRESS_LIST+="${EGRESS_LIST:+, }$egress"
  (( m1 == m0 )) || die "cold #$i: transship counted a cache miss (went to the upstream, not S3)"
  (( s1 > s0 )) || die "cold #$i: S3Proxy used no CPU during the GET (not served from S3?)"
  mbps=$(awk -v s="$BIG_SIZE" -v t="$G_TIME" 'BEGIN { printf "%.1f", s / 1e6 / t }')
  log "cold #$i: ${G_TIME}s (${mbps} MB/s, first byte after $(awk -v t="$G_TTFB" 'BEGIN { printf "%.1f", t * 1000 }') ms); S3Proxy sent ${egress}x the blob size"
  COLD_LIST+="${COLD_LIST:+, }$mbps"
  cold_total=$(awk -v a="$cold_total" -v b="$G_TIME" 'BEGIN { print a + b }')
  cold_ttfb=$(awk -v a="$cold_ttfb" -v b="$G_TTFB" 'BEGIN { print a + b }')
  cold_best=$(awk -v a="$cold_best" -v b="$mbps" 'BEGIN { print (b > a ? b : a) }')
  stop_proc b
done
S[cold/n]=$COLD_RUNS
S[cold/secs]=$(awk -v t="$cold_total" -v n="$COLD_RUNS" 'BEGIN { printf "%.3f", t / n }')
S[cold/mbps]=$(awk -v s="$BIG_SIZE" -v t="$cold_total" -v n="$COLD_RUNS" 'BEGIN { printf "%.1f", s * n / 1e6 / t }')
S[cold/best]=$cold_best
S[cold/ttfb]=$(awk -v t="$cold_ttfb" -v n="$COLD_RUNS" 'BEGIN { printf "%.1f", t / n * 1000 }')

# ---------------------------------------------------------------- 5. report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2fx", a / b }'; }
STAMP=$(date +%Y%m%d-%H%M%S)
OUT_FILE="$OUT_DIR/s3-$STAMP.txt"
{
  echo "transship S3 storage benchmark — $(date -Is)"
  echo "host: $(uname -srm), $(nproc) CPUs ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM"
  echo "transship: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$( [[ -n $(git -C "$REPO" status --porcelain 2>/dev/null | head -1) ]] && echo ' (dirty tree)'), jar sha256 $(sha256sum "$W/transship.jar" | cut -c1-12), $("$JAVA" -version 2>&1 | head -1), -XX:+UseZGC${TRANSSHIP_JAVA_OPTS:+ $TRANSSHIP_JAVA_OPTS}"
  echo "S3: S3Proxy $S3PROXY_VERSION (filesystem-nio2, SigV4) on loopback; bucket $BUCKET, prefix $PREFIX, part-size $PART_SIZE, presign off"
  echo "blob: $BIG_DIGEST, $BIG_SIZE bytes (${LAYER_MIB} MiB random data, gzip -1); MB = 1e6 bytes, GB = 1e9 bytes"
  echo
  echo "BLOB GET, wrk -t$THREADS -c$CONNS -d${DURATION}s (+${WARMUP}s unrecorded warm-up), keep-alive"
  printf '  %-30s %-5s %8s %7s %8s %8s %10s %13s %9s %13s %11s\n' target check requests "GB/s" "p50 ms" "p99 ms" "srv cores" "s3proxy cores" "wrk cores" "softirq cores" "other cores"
  for who in fs a; do
    label="filesystem storage"; [[ $who == a ]] && label="S3 storage, warm local cache"
    printf '  %-30s %-5s %8s %7s %8s %8s %10s %13s %9s %13s %11s\n' "$label" "${R[$who/status]}" "${R[$who/requests]}" "${R[$who/gbps]}" \
      "${R[$who/p50]}" "${R[$who/p99]}" "${R[$who/cores]}" "${R[$who/s3cores]}" "${R[$who/wrkcores]}" "${R[$who/irq]}" "${R[$who/other]}"
  done
  echo "  (background load before measuring: $START_BUSY busy cores of $(nproc); 'softirq cores' = kernel irq/softirq time, mostly the loopback traffic itself; 'other cores' = what the rest of the machine used)"
  echo
  echo "BLOB GET, sequential curl (one GET at a time, new connection each; sha256 and size checked)"
  printf '  %-34s %5s %8s %12s %9s %9s\n' target GETs "mean s" "MB/s (all)" "best MB/s" "TTFB ms"
  for key in fs a cold s3; do
    case $key in
      fs) label="filesystem storage" ;; a) label="S3 storage, warm local cache" ;;
      cold) label="S3 storage, cold (empty cache)" ;; s3) label="S3Proxy direct (reference)" ;;
    esac
    printf '  %-34s %5s %8s %12s %9s %9s\n' "$label" "${S[$key/n]}" "${S[$key/secs]}" "${S[$key/mbps]}" "${S[$key/best]}" "${S[$key/ttfb]}"
  done
  echo "  cold runs (MB/s each; replica restarted with a wiped cache before each): $COLD_LIST"
  echo "  (background load before the sequential and cold GETs: $COLD_BUSY busy cores of $(nproc))"
  echo "  bytes S3Proxy sent per cold GET incl. the background cache fill (x blob size): $EGRESS_LIST"
  echo
  echo "RATIOS vs filesystem storage (>1 = faster than filesystem)"
  printf '  %-58s %s\n' "wrk            S3 warm / filesystem" "$(ratio "${R[a/gbps]}" "${R[fs/gbps]}")"
  printf '  %-58s %s\n' "sequential     S3 warm / filesystem" "$(ratio "${S[a/mbps]}" "${S[fs/mbps]}")"
  printf '  %-58s %s\n' "sequential     S3 cold / filesystem" "$(ratio "${S[cold/mbps]}" "${S[fs/mbps]}")"
  printf '  %-58s %s\n' "sequential     S3 cold / S3Proxy direct" "$(ratio "${S[cold/mbps]}" "${S[s3/mbps]}")"
  echo
  echo "SECOND REPLICA (wall time of skopeo copy docker://... oci:DIR, image = both layers, $(( (BIG_SIZE + SMALL_SIZE) / 1000000 )) MB gzip)"
  printf '  %-66s %7ss\n' "straight from the upstream registry (gzip, reference)" "$T_DIRECT"
  printf '  %-66s %7ss\n' "replica A, first pull: fetch + convert 2 layers to zstd + upload to S3" "$T_A1"
  printf '  %-66s %7ss\n' "replica A, second pull (local cache)" "$T_A2"
  printf '  %-66s %7ss\n' "replica B, fresh cache, same bucket (served from S3, no conversion)" "$T_B"
  printf '  %-66s %8s\n' "replica B / replica A's first conversion" "$(ratio "$T_B" "$T_A1")"
  echo "  (background load before the pulls: $CONV_BUSY busy cores of $(nproc))"
  echo "  converted manifest $DIGEST_A (both replicas); conversions started: A $STARTED_A, B $STARTED_B; replica B start to ready: ${T_B_START}s"
  echo
  if (( FAILURES > 0 )); then
    echo "RESULT: $FAILURES wrk run(s) FAILED their checks — those figures are not valid"
  else
    echo "RESULT: all checks passed (HTTP 200, full bodies, no cache misses during wrk; every curl GET size+sha256 checked)"
  fi
  if (( NOISY > 0 )); then
    echo "WARNING: $NOISY wrk run(s) marked noisy: other processes used > $NOISE_CORES cores even after $NOISE_RETRIES repeat(s); treat those figures as lower bounds"
  fi
} | tee "$OUT_FILE"
log "results written to $OUT_FILE"
(( FAILURES == 0 )) || { loud "$FAILURES run(s) failed; see above"; exit 1; }
