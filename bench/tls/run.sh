#!/usr/bin/env bash
# bench/tls/run.sh — what HTTPS and client authentication cost transship, in one run on 127.0.0.1:
# manifest GET-by-tag req/s (a cache hit within cache.tag-ttl) over
#   plain        HTTP, no authentication                        (the baseline)
#   tls          HTTPS (HTTP/1.1), no authentication            (what TLS costs)
#   plain-basic  HTTP + Basic credentials on every request      (what authentication costs)
#   tls-basic    HTTPS + Basic credentials on every request (bcrypt cached)
#   tls-bearer   HTTPS + a token from /token
#   registry     docker-registry serving the same manifest itself with http.tls + htpasswd (Basic)
# and with a new connection per request (Connection: close), the handshake cost:
#   plain-new / tls-new
# and blob GET throughput (a LAYER_MIB random layer, cache hit): blob-plain / blob-tls-basic
#
#   bench/tls/run.sh                 # DURATION=4 WARMUP=1 THREADS=1 CONNS=4
#
# Needs: docker-registry wrk skopeo curl jq openssl htpasswd; a built proxy-server/target/transship.jar.
set -euo pipefail
DURATION=${DURATION:-4}
WARMUP=${WARMUP:-1}
THREADS=${THREADS:-1}
CONNS=${CONNS:-4}
LAYER_MIB=${LAYER_MIB:-16}
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
JAR=${TRANSSHIP_JAR:-$REPO/proxy-server/target/transship.jar}
MT=application/vnd.oci.image.manifest.v1+json
log() { printf '[bench-tls %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[bench-tls] FATAL: %s\n' "$*" >&2; exit 2; }
for t in docker-registry wrk skopeo curl jq openssl htpasswd; do command -v $t >/dev/null || die "missing $t"; done
[[ -f $JAR ]] || die "no jar at $JAR"
JAVA="$("$REPO/bin/find-jdk")/bin/java"

W=$(mktemp -d "${TMPDIR:-/tmp}/transship-bench-tls.XXXXXX")
PIDS=()
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  [[ ${KEEP_TMP:-0} == 1 ]] && log "kept $W" || rm -rf "$W"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 300); do curl -ks -o /dev/null "$1" && return 0; sleep 0.1; done; die "$1 not up"; }

# ---- a small image in an OCI layout
L=$W/layout; mkdir -p "$L/blobs/sha256" "$W/rootfs"
head -c $((LAYER_MIB * 1024 * 1024)) /dev/urandom > "$W/rootfs/f"
tar -C "$W/rootfs" -cf "$W/layer.tar" f
DIFF=$(sha256sum "$W/layer.tar" | cut -d' ' -f1)
gzip -n -c "$W/layer.tar" > "$W/layer.gz"
put() { local h; h=$(sha256sum "$1" | cut -d' ' -f1); mv "$1" "$L/blobs/sha256/$h"; echo "sha256:$h $(stat -c %s "$L/blobs/sha256/$h")"; }
read -r LD LS < <(put "$W/layer.gz")
printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$DIFF" > "$W/cfg"
read -r CD CS < <(put "$W/cfg")
printf '{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' "$MT" "$CD" "$CS" "$LD" "$LS" > "$W/man"
read -r MD MS < <(put "$W/man")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"%s","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' "$MT" "$MD" "$MS" > "$L/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$L/oci-layout"

# ---- certificate (ECDSA P-256, as ACM and Let's Encrypt issue by default) and users
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$W/tls.key" -out "$W/tls.crt" 2>/dev/null
htpasswd -Bbc "$W/htpasswd" bench benchpass 2>/dev/null
BASIC="Basic $(printf bench:benchpass | base64)"

# ---- servers
REG=$(port); RTLS=$(port); PA=$(port); TA=$(port); AA=$(port); PB=$(port); TB=$(port); AB=$(port)
registry() { # name port extra-yaml
  mkdir -p "$W/$1"
  cat > "$W/$1/config.yml" <<YAML
version: 0.1
log: { level: warn, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $W/$1/data }, cache: { blobdescriptor: inmemory } }
http:
  addr: 127.0.0.1:$2
  secret: bench-$1
$3
YAML
  docker-registry serve "$W/$1/config.yml" > "$W/$1.log" 2>&1 & PIDS+=($!)
}
registry upstream "$REG" ""
registry registry-tls "$RTLS" "  tls: { certificate: $W/tls.crt, key: $W/tls.key }
auth: { htpasswd: { realm: bench, path: $W/htpasswd } }"
wait_up "http://127.0.0.1:$REG/v2/"; wait_up "https://127.0.0.1:$RTLS/v2/"
skopeo copy --quiet --dest-tls-verify=false "oci:$L:latest" "docker://127.0.0.1:$REG/bench/random:latest"
skopeo copy --quiet --dest-tls-verify=false --dest-creds bench:benchpass "oci:$L:latest" "docker://127.0.0.1:$RTLS/bench/random:latest"

transship() { # name listen admin extra-yaml
  mkdir -p "$W/$1"
  cat > "$W/$1/transship.yaml" <<YAML
listen: "$2"
admin: { listen: 127.0.0.1:$3 }
storage: { filesystem: { root: $W/$1/data } }
default-upstream: lab
upstream-defaults: { format: none }
upstreams: { lab: { url: "http://127.0.0.1:$REG" } }
$4
YAML
  TRANSSHIP_LOG_LEVEL=WARN "$JAVA" --enable-native-access=ALL-UNNAMED -jar "$JAR" serve --config "$W/$1/transship.yaml" > "$W/$1.log" 2>&1 & PIDS+=($!)
}
TLS_YAML="tls: { listen: 127.0.0.1:%s, cert-file: $W/tls.crt, key-file: $W/tls.key }"
transship open "127.0.0.1:$PA" "$AA" "$(printf "$TLS_YAML" "$TA")"
transship secure "127.0.0.1:$PB" "$AB" "$(printf "$TLS_YAML" "$TB")
auth: { htpasswd: $W/htpasswd, access: [ { users: [bench], repositories: [\"lab/**\"] } ] }"
wait_up "http://127.0.0.1:$AA/readyz"; wait_up "http://127.0.0.1:$AB/readyz"
PATH_M=/v2/lab/bench/random/manifests/latest
curl -fsS -o /dev/null -H "Accept: $MT" "http://127.0.0.1:$PA$PATH_M" || die "plain manifest GET failed"
curl -fksS -o /dev/null -H "Accept: $MT" -H "Authorization: $BASIC" "https://127.0.0.1:$TB$PATH_M" || die "tls manifest GET failed"
TOKEN=$(curl -fksS -u bench:benchpass "https://127.0.0.1:$TB/token?service=transship&scope=repository:lab/bench/random:pull" | jq -r .token)
curl -fksS -o /dev/null -H "Accept: $MT" -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$TB$PATH_M" || die "bearer GET failed"
PATH_B=/v2/lab/bench/random/blobs/$LD
curl -fsS -o /dev/null "http://127.0.0.1:$PA$PATH_B" || die "plain blob GET failed"
curl -fksS -o /dev/null -H "Authorization: $BASIC" "https://127.0.0.1:$TB$PATH_B" || die "tls blob GET failed"

# ---- runs
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A RPS XFER
bench() { # name url extra-headers...
  local name=$1 url=$2; shift 2
  local hdr=(-H "Accept: $MT"); for h in "$@"; do hdr+=(-H "$h"); done
  (( WARMUP > 0 )) && wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" "${hdr[@]}" "$url" >/dev/null 2>&1
  local out; out=$(wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" "${hdr[@]}" "$url" 2>&1)
  if grep -q "Non-2xx" <<<"$out"; then echo "$out" >&2; die "$name: non-2xx answers"; fi
  RPS[$name]=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  XFER[$name]=$(awk '/Transfer\/sec/ {print $2}' <<<"$out")
  log "$name: ${RPS[$name]} req/s, ${XFER[$name]}/s"
}
bench plain "http://127.0.0.1:$PA$PATH_M"
bench plain-basic "http://127.0.0.1:$PB$PATH_M" "Authorization: $BASIC"  # warms the secure JVM; measured again below
bench tls "https://127.0.0.1:$TA$PATH_M"
bench plain-basic "http://127.0.0.1:$PB$PATH_M" "Authorization: $BASIC"
bench tls-basic "https://127.0.0.1:$TB$PATH_M" "Authorization: $BASIC"
bench tls-bearer "https://127.0.0.1:$TB$PATH_M" "Authorization: Bearer $TOKEN"
bench registry "https://127.0.0.1:$RTLS/v2/bench/random/manifests/latest" "Authorization: $BASIC"
bench plain-new "http://127.0.0.1:$PA$PATH_M" "Connection: close"
bench tls-new "https://127.0.0.1:$TA$PATH_M" "Connection: close"
bench blob-plain "http://127.0.0.1:$PA$PATH_B"
bench blob-tls-basic "https://127.0.0.1:$TB$PATH_B" "Authorization: $BASIC"
checks=$(curl -s "http://127.0.0.1:$AB/metrics" | awk '/^transship_auth_password_checks_total/ {print $2}')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "| run | req/s | vs plain |"
echo "|---|---|---|"
for n in plain tls plain-basic tls-basic tls-bearer registry; do echo "| $n | ${RPS[$n]} | $(ratio "${RPS[$n]}" "${RPS[plain]}") |"; done
for n in plain-new tls-new; do echo "| $n | ${RPS[$n]} | $(ratio "${RPS[$n]}" "${RPS[plain-new]}") (vs plain-new) |"; done
echo "| blob-plain | ${XFER[blob-plain]}/s | 1.00 |"
echo "| blob-tls-basic | ${XFER[blob-tls-basic]}/s | $(ratio "${RPS[blob-tls-basic]}" "${RPS[blob-plain]}") (vs blob-plain) |"
echo
echo "authentication alone: plain-basic / plain = $(ratio "${RPS[plain-basic]}" "${RPS[plain]}"); over TLS: tls-basic / tls = $(ratio "${RPS[tls-basic]}" "${RPS[tls]}"), tls-bearer / tls = $(ratio "${RPS[tls-bearer]}" "${RPS[tls]}")"
echo "tls-basic / registry (docker-registry, http.tls + htpasswd): $(ratio "${RPS[tls-basic]}" "${RPS[registry]}")"
echo "bcrypt checks during the whole run: $checks"
echo "$(nproc) cores, load average before: $LOAD, wrk -t$THREADS -c$CONNS -d${DURATION}s"
