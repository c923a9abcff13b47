#!/usr/bin/env bash
# image/build.sh — build the transship image here, without Docker and without public base images:
# local bases (image/make-bases.sh), the jar built outside (PREBUILT_JAR), then
# `buildah bud --isolation chroot --storage-driver vfs`. The image lands in the buildah/podman
# storage under $IMAGE_CACHE (see image/podman.sh to run it).
#
# usage: image/build.sh [TAG]       (default localhost/transship:dev)
# env: IMAGE_CACHE (default /var/tmp/transship-image-cache), MAVEN_BUILD=1 to build the jar with
#      Maven inside the image build (host ~/.m2 mounted, offline) instead of copying it
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TAG="${1:-localhost/transship:dev}"
CACHE="${IMAGE_CACHE:-/var/tmp/transship-image-cache}"
for t in buildah debootstrap; do
  command -v "$t" > /dev/null || { echo "image/build.sh: $t is not installed (apt-get install -y buildah debootstrap)" >&2; exit 3; }
done
mapfile -t bases < <("$ROOT/image/make-bases.sh")
JAR="$ROOT/proxy-server/target/transship.jar"
args=(--build-arg "RUNTIME_BASE=${bases[0]}" --build-arg "BUILD_BASE=${bases[1]}"
      --build-arg "REVISION=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)")
if [[ ${MAVEN_BUILD:-0} == 1 ]]; then
  args+=(--volume "$HOME/.m2:/root/.m2")
else
  [[ -f $JAR ]] || { echo "image/build.sh: $JAR is missing; run mvn -pl proxy-server -am package -DskipTests first" >&2; exit 1; }
  args+=(--build-arg PREBUILT_JAR=proxy-server/target/transship.jar)
fi
exec 9>"$CACHE/.lock"; flock 9
buildah --root "$CACHE/storage" --runroot "$CACHE/run" --storage-driver vfs \
  bud --isolation chroot --layers=false "${args[@]}" -t "$TAG" -f "$ROOT/Dockerfile" "$ROOT" > "$CACHE/build.log" 2>&1 || { tail -20 "$CACHE/build.log" >&2; exit 1; }
# the previous build of this tag is now dangling: drop it, or the vfs store grows by ~300 MB a build
buildah --root "$CACHE/storage" --runroot "$CACHE/run" --storage-driver vfs rmi --prune > /dev/null 2>&1 || true
echo "$TAG"
