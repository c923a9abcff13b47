#!/usr/bin/env python3
"""bench/hardening/run.py - what hostile clients and content cost transship, in one run.

Figures, each against a baseline measured in the same run (see bench/README.md):
  1. cached manifest GET by tag: req/s and p99 with N slow (slowloris) connections held open
     against the same without them;
  2. peak RSS of transship while it meets a decompression bomb (an 8 MiB gzip layer inflating to
     8 GiB) against its RSS idle, and how long the bomb held a conversion worker.

Needs docker-registry, wrk and a built jar (proxy-server/target/transship.jar). Everything runs on
127.0.0.1 in a temp dir and is stopped at the end. Knobs (environment): SLOW (3000), DURATION (5 s
per wrk run), CONNS (8), TRANSSHIP_JAR, KEEP_TMP=1.
"""
import gzip
import hashlib
import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SLOW = int(os.environ.get("SLOW", "3000"))
DURATION = int(os.environ.get("DURATION", "5"))
CONNS = int(os.environ.get("CONNS", "8"))
JAR = os.environ.get("TRANSSHIP_JAR", os.path.join(REPO, "proxy-server/target/transship.jar"))
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
PROCS = []


def log(msg):
    print(f"[hardening {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, data=None, headers=None, timeout=120):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, dict(r.headers), r.read()


def wait_http(url, seconds=60):
    end = time.time() + seconds
    while time.time() < end:
        try:
            http("GET", url, timeout=2)
            return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds}s")


def push_blob(reg, repo, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    _, headers, _ = http("POST", f"{reg}/v2/{repo}/blobs/uploads/")
    location = headers["Location"]
    if location.startswith("/"):
        location = reg + location
    sep = "&" if "?" in location else "?"
    http("PUT", f"{location}{sep}digest={digest}", data=data,
         headers={"Content-Type": "application/octet-stream"})
    return digest


def push_image(reg, repo, tag, layer, diff_id):
    layer_digest = push_blob(reg, repo, layer)
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    config_digest = push_blob(reg, repo, config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer_digest, "size": len(layer)}]}).encode()
    http("PUT", f"{reg}/v2/{repo}/manifests/{tag}", data=manifest,
         headers={"Content-Type": OCI_MANIFEST})


def ustar_header(name, size):
    block = bytearray(512)
    block[0:len(name)] = name.encode()
    block[100:108] = b"0000644\0"
    block[108:116] = b"0000000\0"
    block[116:124] = b"0000000\0"
    if size < 0o77777777777:
        block[124:136] = ("%011o\0" % size).encode()
    else:  # base-256 (GNU, Go)
        block[124] = 0x80
        block[128:136] = size.to_bytes(8, "big")
    block[136:148] = b"00000000000\0"
    block[156] = ord("0")
    block[257:263] = b"ustar\0"
    block[263:265] = b"00"
    block[148:156] = b" " * 8
    block[148:156] = ("%06o\0 " % sum(block)).encode()
    return bytes(block)


def small_layer():
    tar = bytearray()
    payload = b"hello from a small layer\n" * 1000
    tar += ustar_header("hello.txt", len(payload)) + payload + b"\0" * (-len(payload) % 512)
    tar += b"\0" * 1024
    return gzip.compress(bytes(tar), mtime=0), "sha256:" + hashlib.sha256(tar).hexdigest()


def bomb_layer(mib):
    # one gzip member of 1 MiB of zeros, repeated (RFC 1952 allows concatenated members)
    zeros = gzip.compress(b"\0" * (1 << 20), mtime=0)
    parts = [gzip.compress(ustar_header("bomb", mib << 20), mtime=0)]
    parts += [zeros] * mib
    parts.append(gzip.compress(b"\0" * 1024, mtime=0))
    return b"".join(parts)


def start(name, argv, tmp, env=None):
    out = open(os.path.join(tmp, name + ".log"), "wb")
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)
    PROCS.append(proc)
    return proc


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def wrk(url):
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNS}", f"-d{DURATION}s", "--latency", "-H", f"Accept: {OCI_MANIFEST}",
         url], capture_output=True, text=True, timeout=DURATION + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return rps, float(p99.group(1)) * scale, int(errors.group(1)) if errors else 0, \
        socket_errors.group(1) if socket_errors else ""


def slowloris(port, count, stop_file):
    """Child process: hold `count` connections that send a request header a byte at a time."""
    sel = selectors.DefaultSelector()
    conns = set()
    reopened = 0

    def open_one():
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        conns.add(s)

    for _ in range(count):
        open_one()
    last = 0
    while not os.path.exists(stop_file):
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:  # closed by the server's header deadline: reconnect, as an attacker would
                sel.unregister(s)
                s.close()
                conns.discard(s)
                open_one()
                reopened += 1
        if time.time() - last >= 1:  # one byte per second per connection
            last = time.time()
            for s in list(conns):
                try:
                    s.send(b"a")
                except OSError:
                    pass
    print(json.dumps({"reopened": reopened}))


def metric(admin, name):
    _, _, body = http("GET", f"http://127.0.0.1:{admin}/metrics")
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--slowloris":
        slowloris(int(sys.argv[2]), SLOW, sys.argv[3])
        return
    for tool in ("docker-registry", "wrk"):
        if not shutil.which(tool):
            raise SystemExit(f"missing tool: {tool}")
    if not os.path.isfile(JAR):
        raise SystemExit(f"no jar at {JAR} (mvn -pl proxy-server -am package -DskipTests)")
    java = subprocess.run([os.path.join(REPO, "bin/find-jdk")], capture_output=True,
                          text=True).stdout.strip() + "/bin/java"
    tmp = tempfile.mkdtemp(prefix="transship-hardening-")
    try:
        reg_port, port, admin = free_port(), free_port(), free_port()
        with open(os.path.join(tmp, "registry.yml"), "w") as f:
            f.write(f"version: 0.1\nlog: {{level: warn, accesslog: {{disabled: true}}}}\n"
                    f"storage: {{filesystem: {{rootdirectory: {tmp}/registry}}}}\n"
                    f"http: {{addr: 127.0.0.1:{reg_port}, secret: bench}}\n")
        start("registry", ["docker-registry", "serve", os.path.join(tmp, "registry.yml")], tmp)
        reg = f"http://127.0.0.1:{reg_port}"
        wait_http(reg + "/v2/")
        layer, diff_id = small_layer()
        push_image(reg, "bench/small", "latest", layer, diff_id)
        bomb = bomb_layer(8192)
        push_image(reg, "bench/bomb", "latest", bomb, "sha256:" + "2" * 64)
        log(f"pushed a small image and a bomb image ({len(bomb)} bytes inflating to 8 GiB)")

        with open(os.path.join(tmp, "transship.yaml"), "w") as f:
            f.write(f"listen: 127.0.0.1:{port}\nadmin: {{listen: 127.0.0.1:{admin}}}\n"
                    f"storage: {{filesystem: {{root: {tmp}/data, max-bytes: 0}}}}\n"
                    "cache: {tag-ttl: 10m}\ndefault-upstream: lab\n"
                    # one attacker address may hold them all: the worst case for the server
                    f"connections: {{max: 20000, max-per-address: 20000}}\n"
                    f"upstreams:\n  lab: {{url: \"{reg}\", format: zstd}}\n")
        env = dict(os.environ, TRANSSHIP_LOG_LEVEL="WARN")
        ts = start("transship", [java, "--enable-native-access=ALL-UNNAMED", "-jar", JAR, "serve",
                                 "--config", os.path.join(tmp, "transship.yaml")], tmp, env)
        wait_http(f"http://127.0.0.1:{admin}/healthz")
        url = f"http://127.0.0.1:{port}/v2/lab/bench/small/manifests/latest"
        http("GET", url, headers={"Accept": OCI_MANIFEST})
        wrk(url)  # warm-up (JIT)
        wrk(url)
        a_rps, a_p99, a_err, a_sock = wrk(url)
        log(f"baseline before: {a_rps:.0f} req/s, p99 {a_p99:.2f} ms")

        stop_file = os.path.join(tmp, "stop-slowloris")
        loris = subprocess.Popen([sys.executable, __file__, "--slowloris", str(port), stop_file],
                                 stdout=subprocess.PIPE, start_new_session=True)
        PROCS.append(loris)
        end = time.time() + 60
        while metric(admin, "transship_connections_open") < SLOW and time.time() < end:
            time.sleep(0.2)
        held = metric(admin, "transship_connections_open")
        slow_rps, slow_p99, slow_err, slow_sock = wrk(url)
        held_after = metric(admin, "transship_connections_open")
        open(stop_file, "w").close()
        loris_out = loris.communicate(timeout=60)[0].decode().strip()
        timeouts = metric(admin, "transship_connections_rejected_total")
        log(f"with {held:.0f} slow connections: {slow_rps:.0f} req/s, p99 {slow_p99:.2f} ms")
        time.sleep(1)
        b_rps, b_p99, b_err, b_sock = wrk(url)
        log(f"baseline after: {b_rps:.0f} req/s, p99 {b_p99:.2f} ms")
        # A-B-A: the baseline is the mean of the runs before and after, so drift (JIT, other load
        # on the machine) does not land on one side only
        base_rps, base_p99 = (a_rps + b_rps) / 2, (a_p99 + b_p99) / 2
        base_err, base_sock = a_err + b_err, a_sock or b_sock

        time.sleep(1)
        idle_rss = rss_kib(ts.pid)
        started = time.time()
        peak = idle_rss
        import threading
        result = {}

        def pull():
            result["status"], _, result["body"] = http(
                "GET", f"http://127.0.0.1:{port}/v2/lab/bench/bomb/manifests/latest",
                headers={"Accept": OCI_MANIFEST, "User-Agent": "containerd/2.0.0"}, timeout=300)

        t = threading.Thread(target=pull)
        t.start()
        while t.is_alive():
            peak = max(peak, rss_kib(ts.pid))
            time.sleep(0.02)
        bomb_s = time.time() - started
        kept = b"tar+gzip" in result.get("body", b"")

        print()
        print("| figure | baseline (same run) | measured | ratio |")
        print("|---|---|---|---|")
        print(f"| cached manifest req/s ({CONNS} conns, {DURATION}s) | {base_rps:.0f} (no slow conns; {a_rps:.0f} before, {b_rps:.0f} after) "
              f"| {slow_rps:.0f} ({held:.0f} slow conns open, {held_after:.0f} at the end) "
              f"| {slow_rps / base_rps:.2f} |")
        print(f"| cached manifest p99 ms | {base_p99:.2f} ({a_p99:.2f} / {b_p99:.2f}) | {slow_p99:.2f} "
              f"| {slow_p99 / base_p99:.2f} |")
        print(f"| errors (non-2xx / socket) | {base_err} / {base_sock or 0} | {slow_err} / {slow_sock or 0} | |")
        print(f"| transship RSS MiB, bomb manifest pull (8 MiB layer -> 8 GiB) | {idle_rss / 1024:.0f} (idle) "
              f"| {peak / 1024:.0f} (peak) | {peak / idle_rss:.2f} |")
        print(f"| bomb: manifest answered in s / layer kept original | | {bomb_s:.1f} / {kept} | |")
        print(f"\nslow connections closed at the header deadline meanwhile: {timeouts:.0f} "
              f"(slowloris reconnects: {loris_out})")
        if result.get("status") != 200 or not kept:
            raise SystemExit("the bomb image was not served in its original form")
    finally:
        for p in PROCS:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if os.environ.get("KEEP_TMP") == "1":
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
