#!/usr/bin/env bash
# shared-layers.sh — the second image of a pair that shares base layers costs no conversion of
# them: conversions started and proxy CPU seconds for each image's first (cold) converted manifest
# request, against a cold plain pull-through of the same image measured in the same run.
#
#   bench/conversion/shared-layers.sh [OCI_LAYOUT:REF]   (default: the rig's Debian+python image,
#                                                          /tmp/lab-clients/images/oci:debian-py)
# Image A is REF (3 gzip layers). Image B, in another repository, keeps A's first two layers and
# gets its own third layer (random files), so a correct proxy converts 3 + 1 layers, not 3 + 3.
# Needs: docker-registry, skopeo, curl, jq, gzip; a JDK >= 25 (bin/find-jdk) and the transship jar.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"; REPO="$(cd "$HERE/../.." && pwd)"
SRC=${1:-/tmp/lab-clients/images/oci:debian-py}
JAR=${JAR:-$REPO/proxy-server/target/transship.jar}
JAVA="$("$REPO/bin/find-jdk")/bin/java"
[[ -f $JAR ]] || { echo "no jar at $JAR: build it (mvn -pl proxy-server -am package -DskipTests)" >&2; exit 1; }
[[ -d ${SRC%%:*} ]] || { echo "no OCI layout at ${SRC%%:*} (run ../shared/rig/make-images.sh or pass one)" >&2; exit 1; }
W=$(mktemp -d /tmp/transship-bench-shared.XXXX); PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"' EXIT
REG=5294; PX=5295; AD=5296
mkdir -p "$W/reg"
cat > "$W/reg.yml" <<YML
version: 0.1
log: { level: error }
storage: { filesystem: { rootdirectory: $W/reg } }
http: { addr: 127.0.0.1:$REG }
YML
docker-registry serve "$W/reg.yml" >"$W/reg.log" 2>&1 & PIDS+=($!)
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$REG/v2/" >/dev/null && break; sleep 0.1; done
skopeo copy -q --dest-tls-verify=false --format oci "oci:$SRC" "docker://127.0.0.1:$REG/bench/a:v1"

# ---- image B: A's first two layers + a layer of its own, pushed with the registry API ----
put_blob() { # $1 repo, $2 file -> digest
  local d="sha256:$(sha256sum "$2" | cut -d' ' -f1)" loc
  loc=$(curl -fsi -X POST "http://127.0.0.1:$REG/v2/$1/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
  [[ $loc == http* ]] || loc="http://127.0.0.1:$REG$loc"
  curl -fs -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$2" "$loc&digest=$d" >/dev/null
  echo "$d"
}
curl -fs -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
  "http://127.0.0.1:$REG/v2/bench/a/manifests/v1" > "$W/a.json"
curl -fs "http://127.0.0.1:$REG/v2/bench/a/blobs/$(jq -r .config.digest "$W/a.json")" > "$W/a-config.json"
for i in 0 1; do
  curl -fs -o "$W/l$i" "http://127.0.0.1:$REG/v2/bench/a/blobs/$(jq -r ".layers[$i].digest" "$W/a.json")"
  put_blob bench/b "$W/l$i" >/dev/null
done
mkdir -p "$W/own/app"; head -c 20000000 /dev/urandom > "$W/own/app/data.bin"; seq 1 2000000 > "$W/own/app/numbers.txt"
tar --numeric-owner -C "$W/own" -cf "$W/own.tar" app
own_diff="sha256:$(sha256sum "$W/own.tar" | cut -d' ' -f1)"
gzip -n -6 -c "$W/own.tar" > "$W/own.tar.gz"
own=$(put_blob bench/b "$W/own.tar.gz")
jq --arg d "$own_diff" '.rootfs.diff_ids[2]=$d' "$W/a-config.json" > "$W/b-config.json"
cfg=$(put_blob bench/b "$W/b-config.json")
jq --arg c "$cfg" --argjson cs "$(stat -c %s "$W/b-config.json")" --arg l "$own" \
   --argjson ls "$(stat -c %s "$W/own.tar.gz")" \
   '.config.digest=$c | .config.size=$cs | .layers[2].digest=$l | .layers[2].size=$ls | del(.annotations)' \
   "$W/a.json" > "$W/b.json"
curl -fs -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
  --data-binary @"$W/b.json" "http://127.0.0.1:$REG/v2/bench/b/manifests/v1" >/dev/null

start_proxy() { # $1 = format, $2 = data dir
  cat > "$W/t.yaml" <<YML
listen: 127.0.0.1:$PX
admin: { listen: 127.0.0.1:$AD }
storage: { filesystem: { root: $2 } }
default-upstream: lab
conversion: { deadline: 600s }
upstreams: { lab: { url: "http://127.0.0.1:$REG", format: $1 } }
YML
  "$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseZGC -jar "$JAR" serve --config "$W/t.yaml" >"$W/proxy-$1.log" 2>&1 &
  PIDS+=($!); PROXY=$!
  for _ in $(seq 300); do curl -fs "http://127.0.0.1:$AD/readyz" >/dev/null && return; sleep 0.1; done
  echo "proxy did not start" >&2; exit 1
}
ACCEPT='application/vnd.oci.image.manifest.v1+json,application/vnd.oci.image.index.v1+json'
ms() { date +%s%N; }
cpu_s() { awk '{printf "%.2f", ($14+$15)/100}' "/proc/$PROXY/stat"; }
started() { curl -fs "http://127.0.0.1:$AD/metrics" | awk '/^transship_conversions_started_total/{s+=$NF} END{print s+0}'; }

# baselines: cold plain pull-through of each image (skopeo fetches manifest + every blob)
start_proxy none "$W/data-none"
t0=$(ms); skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$PX/lab/bench/a:v1" "dir:$W/pa"
pull_a=$(( ($(ms)-t0)/1000000 ))
t0=$(ms); skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$PX/lab/bench/b:v1" "dir:$W/pb"
pull_b=$(( ($(ms)-t0)/1000000 ))
kill "$PROXY"; wait "$PROXY" 2>/dev/null || true

# converted: one cold manifest request per image, A first
start_proxy zstd "$W/data-zstd"
c0=$(cpu_s); n0=$(started); t0=$(ms)
curl -fs -o "$W/ca.json" -H "Accept: $ACCEPT" -A containerd/1.7 "http://127.0.0.1:$PX/v2/lab/bench/a/manifests/v1"
conv_a=$(( ($(ms)-t0)/1000000 )); c1=$(cpu_s); n1=$(started)
t0=$(ms)
curl -fs -o "$W/cb.json" -H "Accept: $ACCEPT" -A containerd/1.7 "http://127.0.0.1:$PX/v2/lab/bench/b/manifests/v1"
conv_b=$(( ($(ms)-t0)/1000000 )); c2=$(cpu_s); n2=$(started)
shared=$(jq -r '[.layers[0:2][].digest]' "$W/ca.json")
same=$(jq -r --argjson s "$shared" '[.layers[0:2][].digest]==$s' "$W/cb.json")

echo "image A: $SRC (3 layers); image B: A's layers 1-2 + its own layer 3"
printf '%-58s %8s\n' "" "value"
printf '%-58s %8s\n' "A: conversions started on its first pull" "$((n1-n0))" \
  "B: conversions started on its first pull (goal 1)" "$((n2-n1))" \
  "A: proxy CPU seconds for its first pull" "$(awk -v a="$c0" -v b="$c1" 'BEGIN{print b-a}')" \
  "B: proxy CPU seconds for its first pull" "$(awk -v a="$c1" -v b="$c2" 'BEGIN{print b-a}')" \
  "A: cold pass-through pull (ms, baseline)" "$pull_a" \
  "A: cold converted manifest (ms)" "$conv_a" \
  "B: cold pass-through pull (ms, baseline)" "$pull_b" \
  "B: cold converted manifest after A (ms)" "$conv_b" \
  "B's shared layers have A's converted digests" "$same"
awk -v a="$conv_a" -v b="$pull_a" 'BEGIN{printf "ratio A converted / A pass-through: %.2f\n", a/b}'
awk -v a="$conv_b" -v b="$pull_b" 'BEGIN{printf "ratio B converted / B pass-through: %.2f\n", a/b}'
