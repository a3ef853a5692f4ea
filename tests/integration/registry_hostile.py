#!/usr/bin/python3
"""A hostile registry for tests/integration/registry.sh: each repository misbehaves one way.

  good/img         a valid one-layer image (the pull after the bad ones must work)
  wrongdigest/img  the layer's bytes do not match its digest
  baddigest/img    the good image's manifest with a byte more (asked for by digest: a mismatch)
  badconfig/img    the config blob's bytes do not match its digest
  truncated/img    the layer is cut in the middle (Content-Length promises more)
  bigmanifest/img  a 5 MiB manifest
  badtype/img      a manifest of an unknown media type
  schema1/img      a schema 1 manifest
  s401/img, s403/img, s404/img, s503/img   that status on the manifest, always
  s429/img, s500/img   that status twice, then the good image (retries must get it)
  dotdot/img       a layer with a ../ entry
  abslink/img      an absolute symlink, then a file written through it
  hardlink/img     a hardlink to ../ outside the layer
  proxy/<name>     passed on to the real registry UPSTREAM (host:port), Range included; while
                   the file STALL exists, a blob over 4 MiB asked for from its first byte stops
                   after 3 MiB and the connection hangs until STALL goes (then it is closed):
                   a pull cut in the middle of a layer; while STALL.slow exists, blobs go at
                   about 2 MB/s. Pushes (POST, PATCH, PUT) pass too:
  proxy/flaky/...  the first PATCH and the first PUT of a blob upload are answered 503
  proxy/nomount/...  a cross-repository mount (POST ?mount=) is passed on as a plain POST:
                   the registry opens an upload session instead of mounting
Every request is logged as "METHOD PATH" lines to LOG; each proxied blob also as
"BLOB <digest> range=<Range header or -> sent=<body bytes sent>" once it is over.
Writes its port to PORT_FILE.

usage: registry_hostile.py OUTSIDE_PATH PORT_FILE LOG [UPSTREAM STALL]
"""
import gzip
import hashlib
import http.client
import http.server
import io
import json
import os
import sys
import tarfile
import threading
import time

outside, port_file, log_path = sys.argv[1:4]
upstream, stall_path = (sys.argv[4:6] + [None, None])[:2]
lock = threading.Lock()
counts = {}


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def tar_of(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for kind, name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1
            if kind == "file":
                ti.size = len(data)
                ti.mode = 0o644
                t.addfile(ti, io.BytesIO(data))
            elif kind == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            elif kind == "symlink":
                ti.type = tarfile.SYMTYPE
                ti.linkname = data
                t.addfile(ti)
            elif kind == "hardlink":
                ti.type = tarfile.LNKTYPE
                ti.linkname = data
                t.addfile(ti)
    return buf.getvalue()


def image(entries):
    """(manifest bytes, {digest: blob}) of a one-layer gzip image."""
    raw = tar_of(entries)
    layer = gzip.compress(raw, mtime=0)
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Cmd": ["/hello"]},
                         "rootfs": {"type": "layers", "diff_ids": [sha(raw)]},
                         "history": [{"created_by": "hostile"}]}).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": len(config), "digest": sha(config)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer), "digest": sha(layer)}]}).encode()
    return manifest, {sha(config): config, sha(layer): layer}, sha(layer)


good = image([("file", "hello", b"hello from the good image\n")])
repos = {
    "good/img": good,
    "s429/img": good,
    "baddigest/img": good,
    "badconfig/img": good,
    "s500/img": good,
    "wrongdigest/img": image([("file", "f", b"x" * 5000)]),
    "truncated/img": image([("file", "f", os.urandom(200000))]),
    "dotdot/img": image([("file", "../" * 8 + outside.lstrip("/"), b"escaped\n")]),
    "abslink/img": image([("symlink", "evil", os.path.dirname(outside)),
                          ("file", "evil/" + os.path.basename(outside), b"escaped\n")]),
    "hardlink/img": image([("file", "ok", b"ok\n"),
                           ("hardlink", "hl", "../" * 8 + outside.lstrip("/"))]),
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", ctype="application/json", headers=None, length=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code, msg, headers=None):
        body = json.dumps({"errors": [{"code": code, "message": msg}]}).encode()
        self.reply(status, body, headers=headers)

    def do_HEAD(self):
        self.do_GET()

    def do_POST(self):
        self.do_GET()

    def do_PATCH(self):
        self.do_GET()

    def do_PUT(self):
        self.do_GET()

    def log_line(self, line):
        with lock:
            with open(log_path, "a") as f:
                f.write(line + "\n")

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                if n == 0:
                    self.rfile.readline()
                    return body
                body += self.rfile.read(n)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def proxy(self):
        body = self.read_body() if self.command in ("POST", "PATCH", "PUT") else None
        path = self.path
        if self.command in ("PATCH", "PUT") and path.startswith("/v2/proxy/flaky/") and \
                "/blobs/uploads/" in path:
            with lock:
                counts[("flaky", self.command)] = counts.get(("flaky", self.command), 0) + 1
                n = counts[("flaky", self.command)]
            if n == 1:
                self.log_line("FLAKY %s 503" % self.command)
                self.error(503, "UNAVAILABLE", "service unavailable")
                return
        if self.command == "POST" and path.startswith("/v2/proxy/nomount/") and "mount=" in path:
            path = path.split("?")[0]
            self.log_line("NOMOUNT")
        conn = http.client.HTTPConnection(upstream, timeout=60)
        hdrs = {k: v for k, v in self.headers.items()
                if k.lower() in ("accept", "range", "authorization", "content-type",
                                 "content-range", "host")}
        conn.request(self.command, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() in ("content-type", "content-length", "content-range",
                             "docker-content-digest", "accept-ranges", "www-authenticate",
                             "location", "range", "docker-upload-uuid"):
                self.send_header(k, v)
        self.end_headers()
        length = int(resp.getheader("Content-Length") or 0)
        is_blob = "/blobs/" in self.path and self.command == "GET"
        stall = (is_blob and resp.status == 200 and length > (4 << 20) and
                 stall_path is not None and os.path.exists(stall_path))
        sent = 0
        try:
            while self.command != "HEAD":
                chunk = resp.read(64 * 1024)
                if not chunk:
                    break
                if stall and sent + len(chunk) > (3 << 20):
                    chunk = chunk[: (3 << 20) - sent]
                self.wfile.write(chunk)
                sent += len(chunk)
                if is_blob and stall_path is not None and os.path.exists(stall_path + ".slow"):
                    time.sleep(0.03)
                if stall and sent >= (3 << 20):
                    self.wfile.flush()
                    for _ in range(1200):
                        if not os.path.exists(stall_path):
                            break
                        time.sleep(0.05)
                    self.close_connection = True
                    break
        except OSError:
            self.close_connection = True
        conn.close()
        if is_blob:
            self.log_line("BLOB %s range=%s sent=%d" % (self.path.rsplit("/", 1)[1],
                                                        self.headers.get("Range", "-"), sent))

    def do_GET(self):
        with open(log_path, "a") as f:
            f.write("%s %s\n" % (self.command, self.path))
        p = self.path.split("?")[0]
        if upstream and p.startswith("/v2/proxy/"):
            self.proxy()
            return
        if p == "/v2/":
            self.reply(200, b"{}")
            return
        parts = p.split("/")
        # /v2/<a>/<b>/manifests/<ref> or /v2/<a>/<b>/blobs/<digest>
        if len(parts) != 6:
            self.error(404, "NAME_UNKNOWN", "repository name not known to registry")
            return
        repo, kind, ref = parts[2] + "/" + parts[3], parts[4], parts[5]
        with lock:
            counts[(repo, kind)] = counts.get((repo, kind), 0) + 1
            n = counts[(repo, kind)]
        first = parts[2]
        if kind == "manifests":
            if first in ("s401", "s403", "s404", "s503"):
                status = int(first[1:])
                code = {401: "UNAUTHORIZED", 403: "DENIED", 404: "MANIFEST_UNKNOWN",
                        503: "UNAVAILABLE"}[status]
                hdr = {"WWW-Authenticate": 'Basic realm="hostile"'} if status == 401 else None
                self.error(status, code, {401: "authentication required",
                                          403: "requested access to the resource is denied",
                                          404: "manifest unknown",
                                          503: "service unavailable"}[status], hdr)
                return
            if first in ("s429", "s500") and n <= 2:
                status = int(first[1:])
                self.error(status, "TOOMANYREQUESTS" if status == 429 else "UNKNOWN",
                           "try again later", {"Retry-After": "0"} if status == 429 else None)
                return
            if first == "bigmanifest":
                body = b'{"schemaVersion":2,"x":"' + b"a" * (5 << 20) + b'"}'
                self.reply(200, body, "application/vnd.oci.image.manifest.v1+json")
                return
            if first == "badtype":
                self.reply(200, b'{"schemaVersion":2,"mediaType":"application/x-strange"}',
                           "application/x-strange")
                return
            if first == "schema1":
                self.reply(200, b'{"schemaVersion":1,"name":"schema1/img","tag":"latest",'
                                b'"fsLayers":[],"history":[]}',
                           "application/vnd.docker.distribution.manifest.v1+prettyjws")
                return
            if repo not in repos:
                self.error(404, "NAME_UNKNOWN", "repository name not known to registry")
                return
            manifest = repos[repo][0]
            if first == "baddigest":
                manifest += b" "
            self.reply(200, manifest, "application/vnd.docker.distribution.manifest.v2+json",
                       {"Docker-Content-Digest": sha(manifest)})
            return
        if kind == "blobs" and repo in repos:
            manifest, blobs, layer = repos[repo]
            if ref not in blobs:
                self.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
                return
            data = blobs[ref]
            if first == "badconfig" and ref != layer:
                data = data + b" "
            if first == "wrongdigest" and ref == layer:
                data = bytes([data[0] ^ 0xFF]) + data[1:]
            if first == "truncated" and ref == layer:
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.reply(200, data, "application/octet-stream")
            return
        self.error(404, "NAME_UNKNOWN", "repository name not known to registry")


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
