"""A counting reverse proxy in front of moto, for the folder-sync tests and bench: every request
is forwarded unchanged (Host header included, so SigV4 signatures made for the proxy's address
still verify at moto) and logged as one line "METHOD PATH?QUERY" to LOGFILE, so a test can count
the object GETs a sync made (listing requests carry `list-type=2`).

Usage: counting_proxy.py LISTEN_PORT UPSTREAM_PORT LOGFILE
"""
import http.client
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

listen, upstream, logfile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
log = open(logfile, "a", buffering=1)
local = threading.local()


def conn():
    c = getattr(local, "c", None)
    if c is None:
        c = http.client.HTTPConnection("127.0.0.1", upstream, timeout=60)
        local.c = c
    return c


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        with lock:
            log.write(f"{self.command} {self.path}\n")
        headers = {k: v for k, v in self.headers.items()}
        for attempt in range(2):
            try:
                c = conn()
                c.request(self.command, self.path, body=body, headers=headers)
                r = c.getresponse()
                data = r.read()
                break
            except (http.client.HTTPException, OSError):
                local.c = None
                if attempt == 1:
                    self.send_error(502)
                    return
        self.send_response_only(r.status, r.reason)
        for k, v in r.getheaders():
            if k.lower() in ("transfer-encoding", "connection", "content-length"):
                continue
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.request_queue_size = 256
ThreadingHTTPServer(("127.0.0.1", listen), Proxy).serve_forever()
