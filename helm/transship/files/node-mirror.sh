#!/bin/sh
# transship node mirror: writes containerd hosts.toml files so that this node pulls through
# transship, keeps them in place, and removes the ones it wrote when it stops (SIGTERM: pod
# deleted, helm uninstall). POSIX sh; runs in the transship image.
#
# env: HOSTS_DIR     containerd's config_path (e.g. /etc/containerd/certs.d, mounted from the node)
#      ENDPOINT      transship's URL as the node reaches it (http://<ClusterIP>:5000)
#      REGISTRIES    "host=server ..." e.g. "docker.io=https://registry-1.docker.io ghcr.io=https://ghcr.io"
#      OWNER         marker naming this release; files with another marker are left alone
#      OVERWRITE     "true": replace hosts.toml files that transship did not write
#      RESYNC        seconds between checks (files deleted or changed by hand are rewritten)
#      ONCE          "true": write once and exit (tests)
set -eu
: "${HOSTS_DIR:?}" "${ENDPOINT:?}" "${REGISTRIES:?}" "${OWNER:=transship}"
OVERWRITE="${OVERWRITE:-false}"; RESYNC="${RESYNC:-60}"
MARK="# managed by transship node mirror: $OWNER"

log() { echo "node-mirror: $*"; }

render() { # $1 registry host, $2 its server
  printf '%s\n' "$MARK" "# containerd falls back to the server below when transship does not answer" \
    "server = \"$2\"" "" "[host.\"$ENDPOINT\"]" "  capabilities = [\"pull\", \"resolve\"]"
}

ours() { [ -f "$1" ] && head -n 1 "$1" | grep -qxF "$MARK"; }

write_all() {
  for pair in $REGISTRIES; do
    host="${pair%%=*}"; server="${pair#*=}"
    case "$host" in ""|*/*|.*) log "skipping invalid registry host '$host'"; continue ;; esac
    dir="$HOSTS_DIR/$host"; file="$dir/hosts.toml"
    if [ -f "$file" ] && ! ours "$file" && [ "$OVERWRITE" != true ]; then
      log "leaving $file alone: not written by transship (set nodeMirror.overwrite to replace it)"
      continue
    fi
    want="$(render "$host" "$server")"
    if [ -f "$file" ] && [ "$(cat "$file")" = "$want" ]; then continue; fi
    mkdir -p "$dir"
    printf '%s\n' "$want" > "$file.tmp.$$" && mv -f "$file.tmp.$$" "$file"
    log "wrote $file -> $ENDPOINT"
  done
}

remove_all() {
  for pair in $REGISTRIES; do
    host="${pair%%=*}"; file="$HOSTS_DIR/$host/hosts.toml"
    if ours "$file"; then
      rm -f "$file"; rmdir "$HOSTS_DIR/$host" 2>/dev/null || true
      log "removed $file"
    fi
  done
}

mkdir -p "$HOSTS_DIR"
write_all
[ "${ONCE:-false}" = true ] && exit 0
trap 'remove_all; exit 0' TERM INT
log "watching every ${RESYNC}s; removing the files on SIGTERM"
while :; do
  sleep "$RESYNC" & wait $! || true
  write_all
done
