#!/usr/bin/env python3
"""HTTP server with misbehaving endpoints, for RangeFetcher's tests (loopback only).

Started by the tests: binds 127.0.0.1 on a free port (or --port), prints "PORT <n>" on stdout, and
exits when its stdin reaches EOF (i.e. when the test process that started it goes away).

Endpoints (GET; POST reaches the same ones, its body read and ignored):
  /obj/<size>[/...]         deterministic bytes (byte i = (i*31+7) & 0xff), honours Range (206,
                            Content-Range, ETag, Content-Type, Last-Modified); 416 past the end
  /status/<code>[/...]      that status, with a small body
  /flaky/<key>/<n>          first n requests for <key> answer 500, then /obj/1000
  /throttle/<key>           first request 429 with Retry-After: 1, then /obj/1000
  /throttle-date/<key>      first request 429 with Retry-After as an HTTP date 2 s ahead, then /obj/1000
  /slowdown/<key>           first request 503 with an S3 <Code>SlowDown</Code> body, then /obj/1000
  /always503                503 SlowDown every time
  /slow/<seconds>           waits, then 200
  /huge                     200 that ignores Range: Content-Length 50 MB, streamed until the client leaves
  /redirect?to=<url>        302 to <url>
  /loop                     302 to /loop
  /drop/<key>/<n>           first n requests: connection closed without a response, then /obj/1000
  /headers                  200, body = the request headers as JSON
  /trickle/<ms>/<size>[/...] 200 (or 206 for a Range) with Content-Length <size>, one byte every <ms>
                            milliseconds until the client leaves (a slow object)
  /plain/<size>[/...]       200 with the whole object, ignoring Range (a server without range support)
  /bigheaders/<kb>/<mode>   200 with oversized response headers: mode "one" = a single header line of
                            <kb> KiB, "many" = <kb> header lines of 1 KiB each
  /image/<name>             a file from Tests/RegistrarCoreTests/Fixtures/media/images, honouring Range
  /stats                    JSON: connections accepted, requests per path, bytes sent by /huge
"""
import email.utils
import json
import os
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
COUNTS = {}
STATS = {"connections": 0, "huge_bytes_sent": 0, "huge_requests": 0}
IMAGES = Path(__file__).resolve().parents[2] / "RegistrarCoreTests" / "Fixtures" / "media" / "images"


def content(size, start=0, end=None):
    end = size - 1 if end is None else end
    return bytes(((i * 31 + 7) & 0xFF) for i in range(start, end + 1))


def bump(key):
    with LOCK:
        COUNTS[key] = COUNTS.get(key, 0) + 1
        return COUNTS[key]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault-server/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        with LOCK:
            STATS["connections"] += 1

    def send_body(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_object(self, size, data=None):
        etag = '"obj-%d"' % size
        common = [("Content-Type", "application/octet-stream"), ("ETag", etag),
                  ("Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT"), ("Accept-Ranges", "bytes")]
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            a, _, b = rng[6:].partition("-")
            start = int(a)
            end = min(int(b) if b else size - 1, size - 1)
            if start >= size:
                return self.send_body(416, b"", common + [("Content-Range", "bytes */%d" % size)])
            body = data[start:end + 1] if data is not None else content(size, start, end)
            return self.send_body(206, body, common + [("Content-Range", "bytes %d-%d/%d" % (start, end, size))])
        return self.send_body(200, data if data is not None else content(size), common)

    def send_trickle(self, interval_ms, size):
        rng = self.headers.get("Range")
        self.send_response(206 if rng else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        if rng:
            self.send_header("Content-Range", "bytes 0-%d/%d" % (size - 1, size))
        self.end_headers()
        self.wfile.flush()
        try:
            for i in range(size):
                time.sleep(interval_ms / 1000.0)
                self.wfile.write(content(size, i, i))
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def send_big_headers(self, kb, mode):
        self.send_response(200)
        if mode == "one":
            self.send_header("X-Big", "a" * (kb * 1024))
        else:
            for i in range(kb):
                self.send_header("X-Filler-%d" % i, "b" * 1000)
        self.send_header("Content-Length", "2")
        self.end_headers()
        try:
            self.wfile.write(b"ok")
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        parts = [p for p in path.split("/") if p]
        bump(path)
        head = parts[0] if parts else ""
        if head == "obj":
            return self.send_object(int(parts[1]))
        if head == "status":
            return self.send_body(int(parts[1]), b"status body\n", [("Content-Type", "text/plain")])
        if head == "flaky":
            if bump("flaky:" + parts[1]) <= int(parts[2]):
                return self.send_body(500, b"oops\n")
            return self.send_object(1000)
        if head == "throttle":
            if bump("throttle:" + parts[1]) == 1:
                return self.send_body(429, b"slow down\n", [("Retry-After", "1")])
            return self.send_object(1000)
        if head == "throttle-date":
            if bump("throttle-date:" + parts[1]) == 1:
                when = email.utils.formatdate(time.time() + 2, usegmt=True)
                return self.send_body(429, b"slow down\n", [("Retry-After", when)])
            return self.send_object(1000)
        if head == "slowdown":
            if bump("slowdown:" + parts[1]) == 1:
                return self.send_slowdown()
            return self.send_object(1000)
        if head == "always503":
            return self.send_slowdown()
        if head == "slow":
            time.sleep(float(parts[1]))
            return self.send_body(200, b"finally\n")
        if head == "huge":
            return self.send_huge()
        if head == "redirect":
            to = urllib.parse.parse_qs(url.query).get("to", ["/obj/10"])[0]
            return self.send_body(302, b"", [("Location", to)])
        if head == "loop":
            return self.send_body(302, b"", [("Location", "/loop")])
        if head == "drop":
            if bump("drop:" + parts[1]) <= int(parts[2]):
                self.close_connection = True
                self.wfile.flush()
                self.connection.shutdown(2)
                return
            return self.send_object(1000)
        if head == "trickle":
            return self.send_trickle(int(parts[1]), int(parts[2]))
        if head == "plain":
            return self.send_body(200, content(int(parts[1])), [("Content-Type", "application/octet-stream")])
        if head == "bigheaders":
            return self.send_big_headers(int(parts[1]), parts[2])
        if head == "image":
            data = (IMAGES / os.path.basename(parts[1])).read_bytes()
            return self.send_object(len(data), data)
        if head == "headers":
            body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
            return self.send_body(200, body, [("Content-Type", "application/json")])
        if head == "stats":
            with LOCK:
                body = json.dumps({"connections": STATS["connections"], "requests": COUNTS,
                                   "huge_bytes_sent": STATS["huge_bytes_sent"],
                                   "huge_requests": STATS["huge_requests"]}).encode()
            return self.send_body(200, body, [("Content-Type", "application/json")])
        return self.send_body(404, b"no such endpoint\n")

    def do_POST(self):
        # Token-endpoint stand-in: the body is read (and ignored), then the GET routes answer.
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        return self.do_GET()

    def send_slowdown(self):
        body = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
                b'<Message>Please reduce your request rate.</Message></Error>')
        return self.send_body(503, body, [("Content-Type", "application/xml")])

    def send_huge(self):
        total = 50 * 1024 * 1024
        with LOCK:
            STATS["huge_requests"] += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(total))
        self.end_headers()
        chunk = content(65536)
        sent = 0
        try:
            while sent < total:
                self.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with LOCK:
                STATS["huge_bytes_sent"] += sent
        self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        # Clients that hang up early (timeouts, cut-off transfers) are expected here.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


def main():
    port = 0
    if len(sys.argv) > 2 and sys.argv[1] == "--port":
        port = int(sys.argv[2])
    server = Server(("127.0.0.1", port), Handler)
    print("PORT %d" % server.server_address[1], flush=True)

    def watch_stdin():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
