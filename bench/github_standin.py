#!/usr/bin/env python3
"""A stand-in of GitHub's artifacts API and storage host on 127.0.0.1, for bench/github.sh:
every zip of one run's bucket folder is an artifact (named as the zip, without `.zip`),
listed 100 a page; a download redirects to the storage path, which serves byte ranges.

    bench/github_standin.py PORT ARTIFACT_FOLDER OWNER/REPO RUN_ID

Prints "ready" once listening."""

import json
import os
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, folder, repo, run = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
blobs = {}
for name in sorted(os.listdir(folder)):
    if name.endswith(".zip"):
        with open(os.path.join(folder, name), "rb") as f:
            blobs[name[: -len(".zip")]] = f.read()
names = sorted(blobs)
listing = f"/repos/{repo}/actions/runs/{run}/artifacts"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        # Head and body go out in two writes: without this, Nagle's algorithm and delayed
        # acknowledgements hold each answer back by tens of milliseconds.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        host = f"http://{self.headers.get('Host')}"
        path, _, query = self.path.partition("?")
        if path == listing:
            page = 1
            for part in query.split("&"):
                if part.startswith("page="):
                    page = int(part[5:])
            chunk = names[(page - 1) * 100 : page * 100]
            items = [
                {
                    "name": n,
                    "size_in_bytes": len(blobs[n]),
                    "expired": False,
                    "archive_download_url": f"{host}/download/{n}",
                }
                for n in chunk
            ]
            headers = []
            if page * 100 < len(names):
                headers.append(("Link", f'<{host}{listing}?per_page=100&page={page + 1}>; rel="next"'))
            body = json.dumps({"total_count": len(names), "artifacts": items}).encode()
            return self.send(200, body, headers)
        if path.startswith("/download/"):
            return self.send(302, b"", [("Location", f"{host}/blob/{path[10:]}")])
        if path.startswith("/blob/") and path[6:] in blobs:
            blob = blobs[path[6:]]
            r = self.headers.get("Range", "")
            if r.startswith("bytes="):
                a, _, b = r[6:].partition("-")
                start, end = int(a), min(int(b), len(blob) - 1)
                return self.send(
                    206, blob[start : end + 1], [("Content-Range", f"bytes {start}-{end}/{len(blob)}")]
                )
            return self.send(200, blob)
        self.send(404, b"{}")


# A listen backlog of 5 (the default) drops connections that come in a burst: the client
# would retry them a second later.
ThreadingHTTPServer.request_queue_size = 256
server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
print("ready", flush=True)
server.serve_forever()
