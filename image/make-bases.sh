#!/usr/bin/env bash
# image/make-bases.sh — build the two local base images the Dockerfile needs, without any public
# registry: a Debian bookworm root made with debootstrap (Debian packages only) and imported with
# buildah. Cached: a second run with the same inputs only re-tags.
#
#   runtime base  $RUNTIME_TAG  debian bookworm minbase + ca-certificates, libisal2, libdeflate0
#   build base    $BUILD_TAG    the runtime base + a JDK 25 (copied from JDK_HOME) + Maven
#
# usage: image/make-bases.sh            (env: IMAGE_CACHE, JDK_HOME, MAVEN_HOME, BUILDAH_ROOT)
# needs: debootstrap buildah (root). Prints the two tags.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${IMAGE_CACHE:-/var/tmp/transship-image-cache}"
JDK_HOME="${JDK_HOME:-$("$ROOT/bin/find-jdk")}"
MAVEN_HOME="${MAVEN_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v mvn)")")")}"
RUNTIME_TAG="${RUNTIME_TAG:-localhost/transship-base/runtime:bookworm}"
BUILD_TAG="${BUILD_TAG:-localhost/transship-base/build:jdk25}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
B=(buildah --root "$CACHE/storage" --runroot "$CACHE/run" --storage-driver vfs)
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"; flock 9

if [[ ! -f $CACHE/rootfs.tar ]]; then
  rm -rf "$CACHE/rootfs"
  debootstrap --variant=minbase --include=ca-certificates,libisal2,libdeflate0 \
    bookworm "$CACHE/rootfs" "$MIRROR" > "$CACHE/debootstrap.log" 2>&1 \
    || { echo "make-bases: debootstrap failed; see $CACHE/debootstrap.log" >&2; exit 1; }
  rm -rf "$CACHE/rootfs/var/cache/apt/archives/"*.deb "$CACHE/rootfs/var/lib/apt/lists/"*
  tar -C "$CACHE/rootfs" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
    -cf "$CACHE/rootfs.tar.tmp" . && mv "$CACHE/rootfs.tar.tmp" "$CACHE/rootfs.tar"
  rm -rf "$CACHE/rootfs"
fi

have() { "${B[@]}" inspect --type image "$1" > /dev/null 2>&1; }

if ! have "$RUNTIME_TAG"; then
  c=$("${B[@]}" from scratch)
  "${B[@]}" add "$c" "$CACHE/rootfs.tar" / > /dev/null
  "${B[@]}" config --cmd '["/bin/bash"]' "$c"
  "${B[@]}" commit -q "$c" "$RUNTIME_TAG" > /dev/null; "${B[@]}" rm "$c" > /dev/null
fi

# the JDK and Maven of this machine, packed once (the build base is rebuilt when they change)
stamp="$(basename "$JDK_HOME")-$("$JDK_HOME/bin/java" -version 2>&1 | head -1 | tr -dc '0-9.')-$(basename "$MAVEN_HOME")"
if ! have "$BUILD_TAG" || [[ $(cat "$CACHE/build.stamp" 2>/dev/null) != "$stamp" ]]; then
  c=$("${B[@]}" from "$RUNTIME_TAG")
  tar -C "$(dirname "$JDK_HOME")" -chf "$CACHE/jdk.tar" --transform "s|^$(basename "$JDK_HOME")|opt/jdk|" "$(basename "$JDK_HOME")"
  tar -C "$(dirname "$MAVEN_HOME")" -chf "$CACHE/maven.tar" --transform "s|^$(basename "$MAVEN_HOME")|opt/maven|" "$(basename "$MAVEN_HOME")"
  "${B[@]}" add "$c" "$CACHE/jdk.tar" / > /dev/null
  "${B[@]}" add "$c" "$CACHE/maven.tar" / > /dev/null
  rm -f "$CACHE/jdk.tar" "$CACHE/maven.tar"
  "${B[@]}" config --env JAVA_HOME=/opt/jdk --env MAVEN_HOME=/opt/maven \
    --env PATH=/opt/jdk/bin:/opt/maven/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$c"
  "${B[@]}" commit -q "$c" "$BUILD_TAG" > /dev/null; "${B[@]}" rm "$c" > /dev/null
  echo "$stamp" > "$CACHE/build.stamp"
fi
echo "$RUNTIME_TAG"
echo "$BUILD_TAG"
