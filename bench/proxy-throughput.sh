#!/usr/bin/env bash
# proxy-throughput.sh — throughput / CPU benchmark of transship against nginx and CNCF
# distribution (docker-registry), all on 127.0.0.1, in one run. See bench/README.md.
#
#   bench/proxy-throughput.sh                # DURATION=10 WARMUP=3 THREADS=1 CONNS=4 LAYER_MIB=64
#   DURATION=30 bench/proxy-throughput.sh
#
# Environment knobs:
#   DURATION       seconds of each measured wrk run                        (default 10)
#   WARMUP         seconds of an unrecorded wrk run before each measured run (default 3; 0 = none)
#   THREADS/CONNS  wrk -t / -c                                             (default 1 / 4)
#   LAYER_MIB      size of the random payload inside the gzip layer        (default 64)
#   TAG_TTL        transship cache.tag-ttl                                 (default 60s, the product default)
#   TS_FORMAT      transship upstream `format` (none|zstd) for jars that convert layers (default
#                  none: serve the upstream's manifest and blobs as they are, like distribution)
#   TS_LOG_LEVEL   transship log level (TRANSSHIP_LOG_LEVEL); default WARN, which drops its
#                  per-request INFO access-log line, as the baselines run without access logs
#   TRANSSHIP_JAR  jar to benchmark (copied into the temp dir first)       (default proxy-server/target/transship.jar)
#   TRANSSHIP_JAVA_OPTS  extra JVM flags for transship
#   IDLE_WAIT      seconds to wait for the machine to go idle before measuring and before each
#                  run (default 0 = just sample the load)
#   NOISE_CORES    a run during which other processes used more cores than this is "noisy" (0.3)
#   NOISE_RETRIES  how often a noisy run is repeated; the least noisy attempt is kept (default 2)
#   KEEP_TMP=1     keep the temp dir (logs, configs, storage) after the run
#
# Exit status: 0 when every run was clean; 1 when any check failed (errors are printed loudly,
# with the failing server's log tail); 2 on a usage/setup problem.
set -euo pipefail

DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
THREADS=${THREADS:-1}
CONNS=${CONNS:-4}
LAYER_MIB=${LAYER_MIB:-64}
TAG_TTL=${TAG_TTL:-60s}
TS_FORMAT=${TS_FORMAT:-none}
TS_LOG_LEVEL=${TS_LOG_LEVEL:-WARN}
NOISE_CORES=${NOISE_CORES:-0.3}
NOISE_RETRIES=${NOISE_RETRIES:-2}

HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$HERE")"
OUT_DIR="$HERE/out"
JAR_SRC=${TRANSSHIP_JAR:-$REPO/proxy-server/target/transship.jar}
MANIFEST_TYPE=application/vnd.oci.image.manifest.v1+json
IMAGE_REPO=bench/random
IMAGE_TAG=latest

log()  { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die()  { printf '\n[bench] FATAL: %s\n' "$*" >&2; exit 2; }
loud() { printf '\n[bench] !!!!!!!! %s\n' "$*" >&2; }

for tool in docker-registry nginx wrk skopeo curl jq sha256sum gzip tar ss getconf awk timeout unzip; do
  command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool"
done
[[ -f $JAR_SRC ]] || die "no transship jar at $JAR_SRC (build it, or set TRANSSHIP_JAR)"
JDK="$("$REPO/bin/find-jdk")" || die "no JDK >= 25"
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 1 ]] || die "DURATION must be a positive integer (seconds)"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be an integer (seconds)"
CLK_TCK=$(getconf CLK_TCK)

# ---------------------------------------------------------------- temp dir, processes, cleanup
W=$(mktemp -d "${TMPDIR:-/tmp}/transship-bench.XXXXXX")
PIDS=()      # every server we start
NAMES=()
cleanup() {
  local rc=$?
  set +e
  for i in "${!PIDS[@]}"; do
    kill -TERM "${PIDS[$i]}" 2>/dev/null
  done
  for i in "${!PIDS[@]}"; do
    local pid=${PIDS[$i]} n=0
    while kill -0 "$pid" 2>/dev/null && (( n < 50 )); do sleep 0.1; n=$((n + 1)); done
    if kill -0 "$pid" 2>/dev/null; then
      log "${NAMES[$i]} (pid $pid) ignored SIGTERM for 5s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
  done
  if [[ ${KEEP_TMP:-0} == 1 ]]; then
    log "kept temp dir $W"
  else
    rm -rf "$W"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# pick free TCP ports in 5200-5299 (not listening now, each used once); sets the named variables
pick_ports() {
  local p=5200 var
  for var in "$@"; do
    while (( p <= 5299 )) && [[ -n $(ss -Hltn "sport = :$p" 2>/dev/null) ]]; do p=$((p + 1)); done
    (( p <= 5299 )) || die "no free port left in 5200-5299"
    printf -v "$var" '%s' "$p"; p=$((p + 1))
  done
}
pick_ports REG_PORT MIRROR_PORT NGINX_PORT TS_PORT TS_ADMIN_PORT

# start a server in the background; $1=name, rest = command. Records pid; log in $W/logs/name.log
start() {
  local name=$1; shift
  "$@" >"$W/logs/$name.log" 2>&1 </dev/null &
  PIDS+=("$!"); NAMES+=("$name")
  eval "PID_${name//-/_}=$!"
}
pid_of() { local v="PID_${1//-/_}"; echo "${!v}"; }

# wait (bounded) until URL answers with one of the given HTTP codes
wait_http() { # $1=name $2=url $3=seconds $4...=accepted codes
  local name=$1 url=$2 secs=$3; shift 3
  local deadline=$((SECONDS + secs)) code
  while (( SECONDS < deadline )); do
    kill -0 "$(pid_of "$name")" 2>/dev/null || { tail -n 40 "$W/logs/$name.log" >&2; die "$name exited during startup"; }
    code=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "$url" || true)
    for ok in "$@"; do [[ $code == "$ok" ]] && return 0; done
    sleep 0.2
  done
  tail -n 40 "$W/logs/$name.log" >&2
  die "$name not ready at $url after ${secs}s (last status '$code')"
}

# utime+stime, in clock ticks, of a pid plus its direct children (nginx: master + worker); fields
# 14+15 of /proc/<pid>/stat (threads included), ppid is field 4; comm may hold spaces. Empty when
# the pid is gone.
cpu_ticks() {
  [[ -r /proc/$1/stat ]] || return 0
  # (processes come and go while we read: cat skips the vanished ones, awk never sees a missing file)
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } \
    | awk -v root="$1" '{ pid = $1; line = $0; sub(/^.*\) /, "", line); split(line, f, " ")
                          if (pid == root || f[2] == root) t += f[12] + f[13] } END { print t + 0 }'

}
# busy and total ticks of the whole machine (first line of /proc/stat: user nice system idle
# iowait irq softirq steal ...; busy = user+nice+system+irq+softirq, steal is not ours)
sys_ticks() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8; exit }' /proc/stat; }
# user+sys CPU seconds of all reaped children of this shell; call as `times >FILE; child_cpu FILE`
# (the `times` builtin must run in the main shell, not in a $(...) subshell)
child_cpu() {
  awk 'NR==2 { s=0; for (i=1;i<=2;i++) { split($i,a,"m"); sub(/s$/,"",a[2]); s += a[1]*60 + a[2] } printf "%.3f\n", s }' "$1"
}

mkdir -p "$W/logs" "$W/lua" "$OUT_DIR"
log "temp dir $W; ports: registry=$REG_PORT mirror=$MIRROR_PORT nginx=$NGINX_PORT transship=$TS_PORT admin=$TS_ADMIN_PORT"

# ---------------------------------------------------------------- 1. the image (one gzip layer)
log "building a ${LAYER_MIB} MiB random layer (gzip -1) and an OCI layout"
L=$W/layout; mkdir -p "$W/rootfs" "$L/blobs/sha256"
head -c $((LAYER_MIB * 1024 * 1024)) /dev/urandom > "$W/rootfs/random.bin"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$W/rootfs" -cf "$W/layer.tar" random.bin
DIFF_ID=$(sha256sum "$W/layer.tar" | cut -d' ' -f1)
gzip -1 -n -c "$W/layer.tar" > "$W/layer.tar.gz"
rm -f "$W/layer.tar" "$W/rootfs/random.bin"
BLOB_HEX=$(sha256sum "$W/layer.tar.gz" | cut -d' ' -f1)
BLOB_SIZE=$(stat -c %s "$W/layer.tar.gz")
BLOB_DIGEST=sha256:$BLOB_HEX
mv "$W/layer.tar.gz" "$L/blobs/sha256/$BLOB_HEX"

put_blob() { # stdin -> blob; prints "digest size"
  local tmp=$W/blob.tmp hex
  cat > "$tmp"; hex=$(sha256sum "$tmp" | cut -d' ' -f1)
  mv "$tmp" "$L/blobs/sha256/$hex"; echo "sha256:$hex $(stat -c %s "$L/blobs/sha256/$hex")"
}
read -r CFG_DIGEST CFG_SIZE < <(printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$DIFF_ID" | put_blob)
read -r MANIFEST_DIGEST MANIFEST_SIZE < <(printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
  "$MANIFEST_TYPE" "$CFG_DIGEST" "$CFG_SIZE" "$BLOB_DIGEST" "$BLOB_SIZE" | put_blob)
printf '{"schemaVersion":2,"manifests":[{"mediaType":"%s","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
  "$MANIFEST_TYPE" "$MANIFEST_DIGEST" "$MANIFEST_SIZE" "$IMAGE_TAG" > "$L/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$L/oci-layout"
log "layer $BLOB_DIGEST ($BLOB_SIZE bytes), manifest $MANIFEST_DIGEST ($MANIFEST_SIZE bytes)"

# ---------------------------------------------------------------- servers
registry_config() { # $1=name $2=port $3=extra yaml
  mkdir -p "$W/$1/data"
  cat > "$W/$1/config.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog: {disabled: true}
  formatter: text
storage:
  filesystem: {rootdirectory: $W/$1/data}
  cache: {blobdescriptor: inmemory}
  maintenance:
    uploadpurging: {enabled: false}
http:
  addr: 127.0.0.1:$2
  secret: bench-secret-$1
$3
YAML
}

log "starting docker-registry (plain) on :$REG_PORT"
registry_config registry "$REG_PORT" ""
start registry docker-registry serve "$W/registry/config.yml"
wait_http registry "http://127.0.0.1:$REG_PORT/v2/" 20 200

log "pushing the image with skopeo"
timeout 300 skopeo copy --quiet --dest-tls-verify=false \
  "oci:$L:$IMAGE_TAG" "docker://127.0.0.1:$REG_PORT/$IMAGE_REPO:$IMAGE_TAG" >"$W/logs/skopeo.log" 2>&1 \
  || { cat "$W/logs/skopeo.log" >&2; die "skopeo copy failed"; }
pushed=$(curl -fsS --max-time 10 -o /dev/null -w '%header{docker-content-digest}' -H "Accept: $MANIFEST_TYPE" \
  "http://127.0.0.1:$REG_PORT/v2/$IMAGE_REPO/manifests/$IMAGE_TAG") || die "manifest not in registry after push"
[[ $pushed == "$MANIFEST_DIGEST" ]] || die "registry holds manifest $pushed, expected $MANIFEST_DIGEST (skopeo rewrote it?)"

log "starting docker-registry in proxy mode (remoteurl -> :$REG_PORT) on :$MIRROR_PORT"
registry_config mirror "$MIRROR_PORT" "proxy:
  remoteurl: http://127.0.0.1:$REG_PORT"
start mirror docker-registry serve "$W/mirror/config.yml"
wait_http mirror "http://127.0.0.1:$MIRROR_PORT/v2/" 20 200

log "starting nginx (worker_processes 1, sendfile on) on :$NGINX_PORT"
mkdir -p "$W/nginx/www" "$W/nginx/tmp"
ln "$L/blobs/sha256/$BLOB_HEX" "$W/nginx/www/blob"
cat > "$W/nginx/nginx.conf" <<NGINX
daemon off;
master_process on;
worker_processes 1;
user root;
pid $W/nginx/nginx.pid;
error_log $W/logs/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  default_type application/octet-stream;
  client_body_temp_path $W/nginx/tmp/body;
  proxy_temp_path $W/nginx/tmp/proxy;
  fastcgi_temp_path $W/nginx/tmp/fastcgi;
  uwsgi_temp_path $W/nginx/tmp/uwsgi;
  scgi_temp_path $W/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $W/nginx/www;
  }
}
NGINX
start nginx nginx -e "$W/logs/nginx-error.log" -p "$W/nginx" -c "$W/nginx/nginx.conf"
wait_http nginx "http://127.0.0.1:$NGINX_PORT/blob" 20 200

log "starting transship on :$TS_PORT (admin :$TS_ADMIN_PORT)"
cp "$JAR_SRC" "$W/transship.jar"
mkdir -p "$W/transship/data"
TS_FORMAT_YAML=""
if unzip -p "$W/transship.jar" defaults.yaml 2>/dev/null | grep -q '^ *format:'; then
  TS_FORMAT_YAML=", format: $TS_FORMAT"          # this jar converts layers; pin the format
elif [[ $TS_FORMAT != none ]]; then
  die "TS_FORMAT=$TS_FORMAT but this transship jar has no layer conversion (no upstream 'format' key)"
else
  TS_FORMAT="n/a"
fi
cat > "$W/transship/config.yaml" <<YAML
listen: 127.0.0.1:$TS_PORT
admin: {listen: 127.0.0.1:$TS_ADMIN_PORT}
storage: {filesystem: {root: $W/transship/data, max-bytes: 20GiB}}
cache: {tag-ttl: $TAG_TTL}
default-upstream: lab
upstreams: {lab: {url: "http://127.0.0.1:$REG_PORT"$TS_FORMAT_YAML}}
YAML
# shellcheck disable=SC2086
start transship env TRANSSHIP_LOG_LEVEL="$TS_LOG_LEVEL" "$JDK/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseZGC ${TRANSSHIP_JAVA_OPTS:-} \
  -jar "$W/transship.jar" serve --config "$W/transship/config.yaml"
wait_http transship "http://127.0.0.1:$TS_ADMIN_PORT/readyz" 60 200
wait_http transship "http://127.0.0.1:$TS_PORT/v2/" 10 200 401

BLOB_URL_nginx="http://127.0.0.1:$NGINX_PORT/blob"
BLOB_URL_registry="http://127.0.0.1:$REG_PORT/v2/$IMAGE_REPO/blobs/$BLOB_DIGEST"
BLOB_URL_mirror="http://127.0.0.1:$MIRROR_PORT/v2/$IMAGE_REPO/blobs/$BLOB_DIGEST"
BLOB_URL_transship="http://127.0.0.1:$TS_PORT/v2/lab/$IMAGE_REPO/blobs/$BLOB_DIGEST"
MAN_URL_registry="http://127.0.0.1:$REG_PORT/v2/$IMAGE_REPO/manifests/$IMAGE_TAG"
MAN_URL_mirror="http://127.0.0.1:$MIRROR_PORT/v2/$IMAGE_REPO/manifests/$IMAGE_TAG"
MAN_URL_transship="http://127.0.0.1:$TS_PORT/v2/lab/$IMAGE_REPO/manifests/$IMAGE_TAG"

ts_metric() { # $1=kind $2=result[,result...] -> sum of transship_cache_lookups_total (0 when absent)
  curl -fsS --max-time 5 "http://127.0.0.1:$TS_ADMIN_PORT/metrics" 2>/dev/null \
    | awk -v k="kind=\"$1\"" -v rs="$2" 'BEGIN { n = split(rs, r, ",") }
        /^transship_cache_lookups/ && index($0, k) { for (i = 1; i <= n; i++) if (index($0, "result=\"" r[i] "\"")) v += $NF }
        END { printf "%d\n", v }'
}

# GET a URL; check status 200, no redirect, exact size, exact sha256. $1=label $2=url $3=size $4=hex
# $5=accept. size/hex "-": accept any body that is an image manifest JSON (transship converting
# manifests). Sets GOT_SIZE.
verify_get() {
  local label=$1 url=$2 size=$3 hex=$4 accept=${5:-*/*} f=$W/verify.out meta got code
  meta=$(curl -sS --max-time 120 -H "Accept: $accept" -o "$f" -w '%{http_code} %{size_download}' "$url") \
    || die "$label: GET $url failed"
  got=$(sha256sum "$f" | cut -d' ' -f1); code=${meta% *}; GOT_SIZE=${meta#* }
  if [[ $size == - ]]; then
    [[ $code == 200 ]] && jq -e '.schemaVersion == 2 and (.layers | length) >= 1' "$f" >/dev/null 2>&1 \
      || { head -c 2000 "$f" >&2; echo >&2; die "$label: GET $url -> '$meta', expected 200 and an image manifest"; }
    log "verified $label: 200, $GOT_SIZE bytes, manifest digest sha256:$got, layers: $(jq -r '[.layers[].mediaType] | join(",")' "$f")"
    rm -f "$f"; return 0
  fi
  if [[ $meta != "200 $size" || $got != "$hex" ]]; then
    echo "---- body (first 2000 bytes) ----" >&2; head -c 2000 "$f" | cat -v >&2; echo >&2
    rm -f "$f"
    [[ $meta == "200 $size" ]] || die "$label: GET $url -> '$meta', expected '200 $size'"
    die "$label: GET $url body sha256 $got, expected $hex"
  fi
  rm -f "$f"
  log "verified $label: 200, $size bytes, sha256 ok"
}

# ---------------------------------------------------------------- 2. warm caches + verify bytes
log "warming transship and the distribution proxy (manifest by tag + blob), verifying every endpoint"
MAN_HEX=${MANIFEST_DIGEST#sha256:}
# with TS_FORMAT=zstd transship answers a tag with its converted manifest: other bytes by design
TS_MAN_SIZE=$MANIFEST_SIZE TS_MAN_HEX=$MAN_HEX
[[ $TS_FORMAT == zstd ]] && TS_MAN_SIZE=- TS_MAN_HEX=-
for who in registry mirror; do
  url_var="MAN_URL_$who"; verify_get "manifest/$who (warm)" "${!url_var}" "$MANIFEST_SIZE" "$MAN_HEX" "$MANIFEST_TYPE"
done
verify_get "manifest/transship (warm)" "$MAN_URL_transship" "$TS_MAN_SIZE" "$TS_MAN_HEX" "$MANIFEST_TYPE"
for who in nginx registry mirror transship; do
  url_var="BLOB_URL_$who"; verify_get "blob/$who" "${!url_var}" "$BLOB_SIZE" "$BLOB_HEX"
done
# the distribution proxy writes its copy while streaming the first pull; wait (bounded) until it is
# committed, so the runs below measure its local (cached) path
mirror_blob=$W/mirror/data/docker/registry/v2/blobs/sha256/${BLOB_HEX:0:2}/$BLOB_HEX/data
for _ in $(seq 1 100); do [[ -f $mirror_blob && $(stat -c %s "$mirror_blob") == "$BLOB_SIZE" ]] && break; sleep 0.1; done
[[ -f $mirror_blob ]] || die "distribution proxy did not cache the blob at $mirror_blob"
for who in mirror transship; do
  url_var="BLOB_URL_$who"; verify_get "blob/$who (from cache)" "${!url_var}" "$BLOB_SIZE" "$BLOB_HEX"
done
TS_BLOB_MISS0=$(ts_metric blob miss); TS_BLOB_HIT0=$(ts_metric blob hit)
# nginx serves the very file transship stores (a hard link: same inode, same page-cache pages).
# On this VM the client's cost of receiving a sendfile stream varies by up to ~30% between two
# page-cache copies of the same bytes, so nginx vs transship is only comparable on one file.
TS_BLOB_FILE=$(find "$W/transship/data" -type f -name "*$BLOB_HEX*" -size "${BLOB_SIZE}c" 2>/dev/null | head -1)
if [[ -n $TS_BLOB_FILE ]]; then
  ln -f "$TS_BLOB_FILE" "$W/nginx/www/blob"
  NGINX_FILE="transship's stored copy (${TS_BLOB_FILE#"$W/transship/data/"})"
  verify_get "blob/nginx (transship's file)" "$BLOB_URL_nginx" "$BLOB_SIZE" "$BLOB_HEX"
else
  NGINX_FILE="the OCI layout's copy (transship's stored file not found by name): sendfile figures less comparable"
  loud "cannot find transship's stored blob file; nginx serves another copy of the bytes"
fi
log "nginx serves $NGINX_FILE"
(( TS_BLOB_HIT0 >= 1 )) || die "transship reports no blob cache hit after two GETs (metrics: hit=$TS_BLOB_HIT0 miss=$TS_BLOB_MISS0)"
log "transship cache metrics after warm-up: blob hit=$TS_BLOB_HIT0 miss=$TS_BLOB_MISS0"

# ---------------------------------------------------------------- wrk scripts
cat > "$W/lua/summary.lua" <<'LUA'
-- prints one machine-readable line with wrk's exact counters (no per-request Lua cost)
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d bytes=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.bytes, summary.duration, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99)))
end
LUA
{ printf 'wrk.headers["Accept"] = "%s"\n' "$MANIFEST_TYPE"; cat "$W/lua/summary.lua"; } > "$W/lua/manifest.lua"

# ---------------------------------------------------------------- how idle is the machine?
# IDLE_WAIT=N: wait up to N seconds for the machine to calm down below 0.25 busy cores (sampled
# over 2 s). Sets IDLE_BUSY to the last sample.
wait_idle() {
  local start=$SECONDS deadline=$((SECONDS + ${IDLE_WAIT:-0})) next_log=$SECONDS b0 t0 b1 t1
  while :; do
    read -r b0 t0 < <(sys_ticks); sleep 2; read -r b1 t1 < <(sys_ticks)
    IDLE_BUSY=$(awk -v a="$b0" -v b="$b1" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / t / 2 }')
    if awk -v x="$IDLE_BUSY" 'BEGIN { exit !(x <= 0.25) }'; then
      (( SECONDS - start <= 2 )) || log "machine idle after $((SECONDS - start))s"
      return 0
    fi
    if (( SECONDS >= deadline )); then
      (( ${IDLE_WAIT:-0} == 0 )) || log "machine still busy ($IDLE_BUSY cores) after ${IDLE_WAIT}s; measuring anyway"
      return 0
    fi
    if (( SECONDS >= next_log )); then
      log "machine busy ($IDLE_BUSY cores used by others); waiting for it to go idle ($((deadline - SECONDS))s left)"
      next_log=$((SECONDS + 30))
    fi
  done
}
wait_idle
START_BUSY=$IDLE_BUSY
log "background load before measuring: $START_BUSY busy cores (of $(nproc))"
if awk -v x="$START_BUSY" 'BEGIN { exit !(x > 0.25) }'; then
  loud "the machine is not idle ($START_BUSY cores busy before the benchmark); figures will be noisy"
fi

# ---------------------------------------------------------------- 3/4. measured runs
FAILURES=0
declare -A R   # results: R[kind/who/field]

# $1=kind (blob|manifest) $2=who (nginx|registry|mirror|transship) $3=url
run() {
  local kind=$1 who=$2 url=$3 script=$W/lua/summary.lua pid out=$W/logs/wrk-$1-$2.txt
  [[ $kind == manifest ]] && script=$W/lua/manifest.lua
  pid=$(pid_of "$who")
  if ! kill -0 "$pid" 2>/dev/null; then
    loud "$who (pid $pid) is not running; skipping $kind run"; tail -n 40 "$W/logs/$who.log" >&2
    R[$kind/$who/status]=DEAD; FAILURES=$((FAILURES + 1)); return 0
  fi
  local mkind=blob hit0=0 miss0=0   # transship counts manifest-by-tag lookups as kind="tag"
  [[ $kind == manifest ]] && mkind=tag
  if (( WARMUP > 0 )); then
    log "$kind/$who: ${WARMUP}s warm-up"
    timeout $((WARMUP + 60)) wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" --timeout 30s -s "$script" "$url" >"$out.warmup" 2>&1 || true
  fi
  local man_size=$MANIFEST_SIZE
  if [[ $kind == manifest && $who == transship ]]; then
    verify_get "manifest/transship (re-warm tag)" "$url" "$TS_MAN_SIZE" "$TS_MAN_HEX" "$MANIFEST_TYPE"
    man_size=$GOT_SIZE
  fi
  [[ $who == transship ]] && { hit0=$(ts_metric "$mkind" hit,revalidated); miss0=$(ts_metric "$mkind" miss); }
  log "$kind/$who: wrk -t$THREADS -c$CONNS -d${DURATION}s $url"
  local c0 c1 s0 s1 w0 w1 rc=0
  local up_pid="" u0=0 u1=0   # the upstream registry works during proxy runs (mirror tag lookups)
  [[ $who == mirror || $who == transship ]] && up_pid=$(pid_of registry)
  [[ -n $up_pid ]] && u0=$(cpu_ticks "$up_pid")
  c0=$(cpu_ticks "$pid"); read -r s0 st0 < <(sys_ticks); times >"$W/times0"
  timeout $((DURATION + 60)) wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 30s -s "$script" "$url" >"$out" 2>&1 || rc=$?
  times >"$W/times1"; read -r s1 st1 < <(sys_ticks); c1=$(cpu_ticks "$pid")
  [[ -n $up_pid ]] && u1=$(cpu_ticks "$up_pid")
  w0=$(child_cpu "$W/times0"); w1=$(child_cpu "$W/times1")
  sed 's/^/    | /' "$out" >&2

  local bench problems=()
  bench=$(grep '^BENCH ' "$out" || true)
  (( rc == 0 )) || problems+=("wrk exited with status $rc")
  [[ -n $bench ]] || problems+=("no summary line from wrk")
  grep -q 'Non-2xx or 3xx responses' "$out" && problems+=("$(grep 'Non-2xx' "$out" | sed 's/^ *//')")
  grep -q 'Socket errors' "$out" && problems+=("$(grep 'Socket errors' "$out" | sed 's/^ *//')")
  [[ -z $c1 ]] && problems+=("server process died during the run")
  local requests=0 bytes=0 dur=1 p50=0 p99=0 e
  if [[ -n $bench ]]; then
    for e in $bench; do
      case $e in
        requests=*) requests=${e#*=} ;; bytes=*) bytes=${e#*=} ;; duration_us=*) dur=${e#*=} ;;
        p50_us=*) p50=${e#*=} ;; p99_us=*) p99=${e#*=} ;;
        connect=*|read=*|write=*|status=*|timeout=*) [[ ${e#*=} == 0 ]] || problems+=("wrk error counter $e") ;;
      esac
    done
    local size=$BLOB_SIZE; [[ $kind == manifest ]] && size=$man_size
    (( requests > 0 )) || problems+=("zero completed requests")
    # every completed response must have carried the full body (catches redirects / short bodies)
    (( bytes >= requests * size )) || problems+=("only $bytes bytes for $requests responses of $size bytes")
    (( bytes <= (requests + CONNS) * (size + 4096) )) || problems+=("$bytes bytes is more than $requests responses of $size bytes can explain")
  fi
  if [[ $who == transship ]]; then
    local hit1 miss1; hit1=$(ts_metric "$mkind" hit,revalidated); miss1=$(ts_metric "$mkind" miss)
    R[$kind/$who/hits]=$((hit1 - hit0))
    (( miss1 == miss0 )) || problems+=("transship counted $((miss1 - miss0)) $mkind cache misses during the run (expected 0)")
    # every completed request must have been answered from the cache (in-flight ones count too)
    (( hit1 - hit0 >= requests )) || problems+=("transship counted only $((hit1 - hit0)) $mkind cache hits for $requests responses")
  fi
  if (( ${#problems[@]} > 0 )); then
    FAILURES=$((FAILURES + 1)); R[$kind/$who/status]=FAIL
    loud "$kind/$who FAILED:"; printf '    - %s\n' "${problems[@]}" >&2
    echo "    --- last 60 lines of $who log ($W/logs/$who.log) ---" >&2
    tail -n 60 "$W/logs/$who.log" | sed 's/^/    /' >&2
  else
    R[$kind/$who/status]=ok
  fi
  local cpu_s="" tps
  [[ -n $c1 ]] && cpu_s=$(awk -v a="$c0" -v b="$c1" -v t="$CLK_TCK" 'BEGIN { printf "%.3f", (b - a) / t }')
  tps=$(grep 'Transfer/sec' "$out" | awk '{print $2}' || true)
  R[$kind/$who/requests]=$requests
  R[$kind/$who/bytes]=$bytes
  R[$kind/$who/secs]=$(awk -v d="$dur" 'BEGIN { printf "%.3f", d / 1e6 }')
  R[$kind/$who/rps]=$(awk -v r="$requests" -v d="$dur" 'BEGIN { printf "%.1f", r / (d / 1e6) }')
  R[$kind/$who/gbps]=$(awk -v b="$bytes" -v d="$dur" 'BEGIN { printf "%.3f", b / 1e9 / (d / 1e6) }')
  R[$kind/$who/wrk_tps]=${tps:-?}
  R[$kind/$who/cpu_s]=${cpu_s:-?}
  R[$kind/$who/cpu_per_gb]=$([[ -n $cpu_s ]] && awk -v c="$cpu_s" -v b="$bytes" 'BEGIN { if (b > 0) printf "%.3f", c / (b / 1e9); else print "?" }' || echo "?")
  R[$kind/$who/srv_cores]=$([[ -n $cpu_s ]] && awk -v c="$cpu_s" -v d="$dur" 'BEGIN { printf "%.2f", c / (d / 1e6) }' || echo "?")
  R[$kind/$who/wrk_per_gb]=$(awk -v a="$w0" -v b="$w1" -v x="$bytes" 'BEGIN { if (x > 0) printf "%.3f", (b - a) / (x / 1e9); else print "?" }')
  R[$kind/$who/wrk_cores]=$(awk -v a="$w0" -v b="$w1" -v d="$dur" 'BEGIN { printf "%.2f", (b - a) / (d / 1e6) }')
  R[$kind/$who/up_cores]=$([[ -n $up_pid ]] && awk -v a="$u0" -v b="${u1:-$u0}" -v t="$CLK_TCK" -v d="$dur" 'BEGIN { printf "%.2f", (b - a) / t / (d / 1e6) }' || echo "-")
  # everything else that ran on the machine meanwhile (busy - server - upstream - wrk): noise indicator
  R[$kind/$who/other_cores]=$(awk -v a="$s0" -v b="$s1" -v t="$CLK_TCK" -v d="$dur" -v srv="${cpu_s:-0}" \
    -v up="$(( ${u1:-$u0} - u0 ))" -v w="$(awk -v a="$w0" -v b="$w1" 'BEGIN{print b-a}')" \
    'BEGIN { s = d / 1e6; o = (b - a) / t / s - srv / s - up / t / s - w / s; if (o < 0) o = 0; printf "%.2f", o }')
  R[$kind/$who/p50]=$(awk -v u="$p50" 'BEGIN { printf "%.2f", u / 1000 }')
  R[$kind/$who/p99]=$(awk -v u="$p99" 'BEGIN { printf "%.2f", u / 1000 }')
}

# A run is "noisy" when other processes used more than NOISE_CORES cores during it. A noisy run is
# repeated (after waiting for idle, bounded by IDLE_WAIT) up to NOISE_RETRIES times; the least
# noisy attempt is kept and its row is marked "noisy" if it still is.
FIELDS="status requests bytes secs rps gbps wrk_tps cpu_s cpu_per_gb srv_cores up_cores wrk_cores wrk_per_gb other_cores p50 p99 hits"
run_target() { # $1=kind $2=who $3=url
  local kind=$1 who=$2 url=$3 attempt best="" f failures_before
  declare -A keep=()
  for (( attempt = 0; attempt <= NOISE_RETRIES; attempt++ )); do
    (( attempt == 0 )) || { log "$kind/$who: other processes used ${R[$kind/$who/other_cores]} cores; repeating (attempt $((attempt + 1)))"; }
    wait_idle
    failures_before=$FAILURES
    run "$kind" "$who" "$url"
    (( FAILURES == failures_before )) || return 0        # failed runs are reported, not retried
    if [[ -z $best ]] || awk -v a="${R[$kind/$who/other_cores]}" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=${R[$kind/$who/other_cores]}
      for f in $FIELDS; do keep[$f]=${R[$kind/$who/$f]:-}; done
    fi
    awk -v o="${R[$kind/$who/other_cores]}" -v n="$NOISE_CORES" 'BEGIN { exit !(o > n) }' || break
  done
  for f in $FIELDS; do R[$kind/$who/$f]=${keep[$f]}; done
  if awk -v o="$best" -v n="$NOISE_CORES" 'BEGIN { exit !(o > n) }'; then
    R[$kind/$who/status]=noisy; NOISY=$((NOISY + 1))
  fi
}
NOISY=0
for who in nginx registry mirror transship; do url_var="BLOB_URL_$who"; run_target blob "$who" "${!url_var}"; done
for who in registry mirror transship; do url_var="MAN_URL_$who"; run_target manifest "$who" "${!url_var}"; done

# ---------------------------------------------------------------- 5. report
ratio() { # $1=kind $2=field $3=baseline who: transship / baseline, "n/a" unless both runs passed
  local a=${R[$1/transship/$2]:-} b=${R[$1/$3/$2]:-} sa=${R[$1/transship/status]:-} sb=${R[$1/$3/status]:-}
  [[ $sa == ok || $sa == noisy ]] && [[ $sb == ok || $sb == noisy ]] || { echo "n/a (a run failed)"; return; }
  awk -v a="$a" -v b="$b" 'BEGIN { if (a == "" || b == "" || a == "?" || b == "?" || b + 0 == 0) print "n/a"; else printf "%.2fx", a / b }'
}
label() { case $1 in nginx) echo "nginx static (sendfile)";; registry) echo "docker-registry direct";;
                     mirror) echo "distribution proxy mode";; transship) echo "transship (cached)";; esac; }
STAMP=$(date +%Y%m%d-%H%M%S)
OUT_FILE="$OUT_DIR/proxy-throughput-$STAMP.txt"
{
  echo "transship proxy-throughput benchmark — $(date -Is)"
  echo "host: $(uname -srm), $(nproc) CPUs ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM"
  echo "transship: layer format $TS_FORMAT, tag-ttl $TAG_TTL, log level $TS_LOG_LEVEL; $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$( [[ -n $(git -C "$REPO" status --porcelain 2>/dev/null | head -1) ]] && echo ' (dirty tree)'), jar sha256 $(sha256sum "$W/transship.jar" | cut -c1-12), $("$JDK/bin/java" -version 2>&1 | head -1)${TRANSSHIP_JAVA_OPTS:+, opts: $TRANSSHIP_JAVA_OPTS}"
  echo "baselines: $(docker-registry --version 2>&1 | awk '{print $2, $3}'), $(nginx -v 2>&1 | sed 's/^nginx version: //') (worker_processes 1, sendfile on); load: $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')"
  echo "load: wrk -t$THREADS -c$CONNS -d${DURATION}s (+${WARMUP}s unrecorded warm-up per target), keep-alive, all on 127.0.0.1"
  echo "blob: $BLOB_DIGEST, $BLOB_SIZE bytes (${LAYER_MIB} MiB random data, gzip -1); manifest: $MANIFEST_SIZE bytes by tag, Accept: $MANIFEST_TYPE"
  echo "background load before measuring: $START_BUSY busy cores of $(nproc)$(awk -v x="$START_BUSY" 'BEGIN { if (x > 0.25) print "  <-- NOT IDLE: figures are noisy" }')"
  echo "nginx serves: $NGINX_FILE"
  echo "units: GB = 1e9 bytes; GB/s = bytes read / wrk duration; CPU = utime+stime of the server pid (/proc/pid/stat)"
  echo
  echo "BLOB GET (64 MiB layer)"
  printf '%-26s %-6s %8s %9s %10s %8s %9s %9s %8s %9s %8s %9s %12s %11s\n' target check requests "GB/s" "wrk xfer/s" "p50 ms" "p99 ms" "srv CPU s" "CPU-s/GB" "srv cores" "up cores" "wrk cores" "wrk CPU-s/GB" "other cores"
  for who in nginx registry mirror transship; do
    printf '%-26s %-6s %8s %9s %10s %8s %9s %9s %8s %9s %8s %9s %12s %11s\n' "$(label $who)" "${R[blob/$who/status]:-?}" "${R[blob/$who/requests]:-}" \
      "${R[blob/$who/gbps]:-}" "${R[blob/$who/wrk_tps]:-}" "${R[blob/$who/p50]:-}" "${R[blob/$who/p99]:-}" "${R[blob/$who/cpu_s]:-}" \
      "${R[blob/$who/cpu_per_gb]:-}" "${R[blob/$who/srv_cores]:-}" "${R[blob/$who/up_cores]:-}" "${R[blob/$who/wrk_cores]:-}" "${R[blob/$who/wrk_per_gb]:-}" "${R[blob/$who/other_cores]:-}"
  done
  echo
  echo "MANIFEST GET by tag"
  printf '%-26s %-6s %9s %10s %8s %8s %10s %9s %8s %9s %11s\n' target check requests "req/s" "p50 ms" "p99 ms" "srv CPU s" "srv cores" "up cores" "wrk cores" "other cores"
  for who in registry mirror transship; do
    printf '%-26s %-6s %9s %10s %8s %8s %10s %9s %8s %9s %11s\n' "$(label $who)" "${R[manifest/$who/status]:-?}" "${R[manifest/$who/requests]:-}" \
      "${R[manifest/$who/rps]:-}" "${R[manifest/$who/p50]:-}" "${R[manifest/$who/p99]:-}" "${R[manifest/$who/cpu_s]:-}" \
      "${R[manifest/$who/srv_cores]:-}" "${R[manifest/$who/up_cores]:-}" "${R[manifest/$who/wrk_cores]:-}" "${R[manifest/$who/other_cores]:-}"
  done
  echo
  echo "RATIOS (transship / baseline; >1 = transship higher)"
  printf '  %-56s %s\n' "blob throughput   transship / nginx static" "$(ratio blob gbps nginx)"
  printf '  %-56s %s\n' "blob throughput   transship / docker-registry direct" "$(ratio blob gbps registry)"
  printf '  %-56s %s\n' "blob throughput   transship / distribution proxy mode" "$(ratio blob gbps mirror)"
  printf '  %-56s %s   (<1 = transship cheaper)\n' "CPU-s per GB      transship / docker-registry direct" "$(ratio blob cpu_per_gb registry)"
  printf '  %-56s %s   (<1 = transship cheaper)\n' "CPU-s per GB      transship / nginx static" "$(ratio blob cpu_per_gb nginx)"
  printf '  %-56s %s\n' "manifest req/s    transship / docker-registry direct" "$(ratio manifest rps registry)"
  printf '  %-56s %s\n' "manifest req/s    transship / distribution proxy mode" "$(ratio manifest rps mirror)"
  echo
  if (( FAILURES > 0 )); then
    echo "RESULT: $FAILURES run(s) FAILED their checks — the figures above for those runs are not valid"
  else
    echo "RESULT: all runs clean (HTTP 200 only, no socket errors, full bodies, no transship cache misses)"
  fi
  if (( NOISY > 0 )); then
    echo "WARNING: $NOISY run(s) marked noisy: other processes used > $NOISE_CORES cores during them even after $NOISE_RETRIES repeat(s); treat those figures as lower bounds"
  fi
} | tee "$OUT_FILE"
log "results written to $OUT_FILE"
if (( FAILURES > 0 )); then
  loud "$FAILURES run(s) failed; see above"
  exit 1
fi
