#!/usr/bin/env bash
# bench/image.sh — the container image against the same jar on the host's full JDK (the baseline),
# in one run: time from start to /readyz 200, RSS idle, peak RSS under 200 concurrent clients
# pulling a cached 4 MiB blob (400 GETs), and the image's size. Not a test; ~1 minute.
# Needs the image (image/build.sh localhost/transship:test) and podman, docker-registry, curl.
# env: IMAGE (localhost/transship:test), IMAGE_CACHE, CLIENTS (200), GETS (400)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IMAGE="${IMAGE:-localhost/transship:test}"; CLIENTS="${CLIENTS:-200}"; GETS="${GETS:-400}"
export IMAGE_CACHE="${IMAGE_CACHE:-/var/tmp/transship-image-cache}"
export CONTAINERS_CONF="$IMAGE_CACHE/conf/containers.conf" CONTAINERS_STORAGE_CONF="$IMAGE_CACHE/conf/storage.conf"
[[ -f $CONTAINERS_CONF ]] || { echo "bench/image.sh: run helm/test/run.sh once first (it writes the podman config)" >&2; exit 2; }
podman image exists "$IMAGE" || { echo "bench/image.sh: no image $IMAGE; image/build.sh $IMAGE" >&2; exit 2; }
JAVA="$("$ROOT/bin/find-jdk")/bin/java"; JAR="$ROOT/proxy-server/target/transship.jar"
W="$(mktemp -d /tmp/transship-bench.XXXXXX)"; CID=""; PIDS=()
trap '[[ -n $CID ]] && podman rm -f "$CID" > /dev/null 2>&1; kill "${PIDS[@]}" 2> /dev/null; rm -rf "$W"; true' EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ms() { date +%s%3N; }
ready() { for _ in $(seq 1 1200); do [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/readyz") == 200 ]] && return 0; sleep 0.05; done; return 1; }
kb() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

R=$(port); mkdir -p "$W/reg"
printf 'version: 0.1\nstorage: { filesystem: { rootdirectory: %s } }\nhttp: { addr: 127.0.0.1:%s }\nlog: { level: error }\n' "$W/reg/data" "$R" > "$W/reg/config.yml"
docker-registry serve "$W/reg/config.yml" > "$W/reg/log" 2>&1 & PIDS+=($!)
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$R/v2/" > /dev/null && break; sleep 0.1; done
head -c $((4 * 1024 * 1024)) /dev/urandom > "$W/blob"; D="sha256:$(sha256sum "$W/blob" | cut -d' ' -f1)"
loc=$(curl -sf -X POST -D - -o /dev/null "http://127.0.0.1:$R/v2/b/blob/blobs/uploads/" | tr -d '\r' | sed -n 's/^Location: //Ip')
[[ $loc == http* ]] || loc="http://127.0.0.1:$R$loc"
curl -sf -X PUT -H "Content-Type: application/octet-stream" --data-binary "@$W/blob" "$loc&digest=$D" -o /dev/null

config() { # $1 port $2 admin $3 root
  printf 'listen: 127.0.0.1:%s\nadmin: { listen: 127.0.0.1:%s }\nstorage: { filesystem: { root: %s } }\ndefault-upstream: lab\nupstream-defaults: { format: none }\nupstreams:\n  lab: { url: "http://127.0.0.1:%s" }\n' "$1" "$2" "$3" "$R"
}
load() { # $1 port: CLIENTS concurrent clients, GETS GETs of the cached blob
  curl -sf -o /dev/null "http://127.0.0.1:$1/v2/lab/b/blob/blobs/$D"
  seq 1 "$GETS" | xargs -P "$CLIENTS" -I{} curl -sf -o /dev/null "http://127.0.0.1:$1/v2/lab/b/blob/blobs/$D"
}
measure() { # $1 name $2 pid $3 port $4 start-ms $5 ready-ms
  sleep 3; local idle; idle=$(kb "$2" VmRSS)
  local t0; t0=$(ms); load "$3"; local t1; t1=$(ms)
  printf '%s|%s|%s|%s|%s\n' "$1" "$(($5 - $4))" "$((idle / 1024))" "$(($(kb "$2" VmHWM) / 1024))" "$((t1 - t0))"
}

# baseline: the jar on the host JDK
P=$(port); A=$(port); mkdir -p "$W/host"; config "$P" "$A" "$W/host/data" > "$W/host/t.yaml"
t0=$(ms); "$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseZGC -XX:MaxRAMPercentage=50 -jar "$JAR" serve --config "$W/host/t.yaml" > "$W/host/log" 2>&1 & PIDS+=($!)
ready "$A"; t1=$(ms); base=$(measure "host JDK" "${PIDS[-1]}" "$P" "$t0" "$t1"); kill "${PIDS[-1]}"

# the image, as the chart runs it (read-only root, uid 65532, 1 GiB limit), started after create
P=$(port); A=$(port); mkdir -p "$W/ctr/data" "$W/ctr/tmp" "$W/ctr/conf"; chown 65532:65532 "$W/ctr/data" "$W/ctr/tmp"
config "$P" "$A" /var/lib/transship > "$W/ctr/conf/transship.yaml"
CID=$(podman create --read-only --read-only-tmpfs=false --user 65532:65532 --memory 1g --cap-drop ALL \
  -v "$W/ctr/conf:/etc/transship:ro" -v "$W/ctr/data:/var/lib/transship" -v "$W/ctr/tmp:/tmp" "$IMAGE")
t0=$(ms); podman start "$CID" > /dev/null; ready "$A"; t1=$(ms)
img=$(measure "image" "$(podman inspect --format '{{.State.Pid}}' "$CID")" "$P" "$t0" "$t1")

size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
echo "transship image vs the same jar on the host JDK ($CLIENTS clients, $GETS GETs of a cached 4 MiB blob)"
printf '%-10s %12s %12s %14s %10s\n' run "ready (ms)" "idle RSS MiB" "peak RSS MiB" "load (ms)"
for row in "$base" "$img"; do IFS='|' read -r n r i p l <<< "$row"; printf '%-10s %12s %12s %14s %10s\n' "$n" "$r" "$i" "$p" "$l"; done
IFS='|' read -r _ br bi bp bl <<< "$base"; IFS='|' read -r _ ir ii ip il <<< "$img"
awk -v br="$br" -v ir="$ir" -v bi="$bi" -v ii="$ii" -v bp="$bp" -v ip="$ip" -v bl="$bl" -v il="$il" 'BEGIN {
  printf "ratios image/host: ready %.2f, idle RSS %.2f, peak RSS %.2f, load time %.2f\n", ir/br, ii/bi, ip/bp, il/bl }'
echo "image size: $((size / 1000000)) MB uncompressed (podman image inspect)"
