#!/usr/bin/env bash
# cold-manifest.sh — time from a cold manifest request to the rewritten (zstd) manifest, for a
# whole realistic image, and the same image's plain pull-through time as the baseline.
#
#   bench/conversion/cold-manifest.sh [OCI_LAYOUT:REF]   (default: the rig's Debian+python image,
#                                                          /tmp/lab-clients/images/oci:debian-py)
# Needs: docker-registry, skopeo, curl, jq; a JDK >= 25 (bin/find-jdk) and the transship jar.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"; REPO="$(cd "$HERE/../.." && pwd)"
SRC=${1:-/tmp/lab-clients/images/oci:debian-py}
JAR=${JAR:-$REPO/proxy-server/target/transship.jar}
JAVA="$("$REPO/bin/find-jdk")/bin/java"
[[ -f $JAR ]] || { echo "no jar at $JAR: build it (mvn -pl proxy-server -am package -DskipTests)" >&2; exit 1; }
[[ -d ${SRC%%:*} ]] || { echo "no OCI layout at ${SRC%%:*} (run ../shared/rig/make-images.sh or pass one)" >&2; exit 1; }
W=$(mktemp -d /tmp/transship-bench-cold.XXXX); PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"' EXIT
REG=5291; PX=5292; AD=5293
mkdir -p "$W/reg"
cat > "$W/reg.yml" <<YML
version: 0.1
log: { level: error }
storage: { filesystem: { rootdirectory: $W/reg } }
http: { addr: 127.0.0.1:$REG }
YML
docker-registry serve "$W/reg.yml" >"$W/reg.log" 2>&1 & PIDS+=($!)
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$REG/v2/" >/dev/null && break; sleep 0.1; done
skopeo copy -q --dest-tls-verify=false "oci:$SRC" "docker://127.0.0.1:$REG/bench/img:v1"

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

# baseline: pull-through without conversion (skopeo fetches manifest + all blobs, cold cache)
start_proxy none "$W/data-none"
t0=$(ms); skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$PX/lab/bench/img:v1" "dir:$W/pulled-none"
pull_ms=$(( ($(ms)-t0)/1000000 )); kill "$PROXY"; wait "$PROXY" 2>/dev/null || true

# converted: one cold manifest request that waits for the whole conversion
start_proxy zstd "$W/data-zstd"
t0=$(ms)
curl -fs -o "$W/converted.json" -H "Accept: $ACCEPT" -A containerd/1.7 "http://127.0.0.1:$PX/v2/lab/bench/img/manifests/v1"
convert_ms=$(( ($(ms)-t0)/1000000 ))
types=$(jq -r '[.layers[].mediaType|split(".")|last]|join(",")' "$W/converted.json")
t0=$(ms); curl -fs -o /dev/null -H "Accept: $ACCEPT" -A containerd/1.7 "http://127.0.0.1:$PX/v2/lab/bench/img/manifests/v1"
warm_ms=$(( ($(ms)-t0)/1000000 ))
in=$(find "$W/pulled-none" -type f -size +1k -exec stat -c %s {} + | awk '{s+=$1} END{print s}')
out=$(jq '[.layers[].size]|add' "$W/converted.json")
echo "image: $SRC ($(jq '.layers|length' "$W/converted.json") layers, $in bytes pulled through)"
echo "layer types served: $types"
printf '%-52s %8s ms\n' "plain pull-through, cold (skopeo copy, baseline)" "$pull_ms" \
  "cold manifest request -> rewritten zstd manifest" "$convert_ms" "same request once converted" "$warm_ms"
awk -v a="$convert_ms" -v b="$pull_ms" 'BEGIN{printf "ratio conversion / plain pull-through: %.2f\n", a/b}'
awk -v i="$in" -v o="$out" 'BEGIN{printf "layer bytes: gzip %d -> zstd %d (%.1f%%)\n", i, o, 100*o/i}'
grep -h "converted layer" "$W/proxy-zstd.log" | sed 's/^.*ConversionService /  /'
