#!/usr/bin/env python3
"""A minimal upstream for the ops benchmark: /v2/ and one manifest by tag and by digest.

Not a registry: just enough of the distribution API for transship to cache one manifest, so the
benchmark measures transship's cached-manifest path, not an upstream.
"""
import hashlib
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MANIFEST = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": "sha256:" + "a" * 64, "size": 2},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": "sha256:" + "b" * 64, "size": 1234}],
}, separators=(",", ":")).encode()
DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body, ctype="application/json", extra=None, head=False):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _route(self, head):
        if self.path in ("/v2/", "/v2"):
            return self._send(200, b"{}", head=head)
        if self.path in ("/v2/bench/app/manifests/latest", "/v2/bench/app/manifests/" + DIGEST):
            return self._send(200, MANIFEST, "application/vnd.oci.image.manifest.v1+json",
                              {"Docker-Content-Digest": DIGEST}, head=head)
        return self._send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}',
                          head=head)

    def do_GET(self):
        self._route(False)

    def do_HEAD(self):
        self._route(True)


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
