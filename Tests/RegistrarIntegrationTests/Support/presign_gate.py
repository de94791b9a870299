"""A presigned-URL checker in front of moto (moto's server, with authentication on, cannot serve
query-string-signed requests, and never checks their expiry). It verifies SigV4 query
authentication exactly as S3 does — the canonical request rebuilt from the request as received
(method, path, sorted query without X-Amz-Signature, the signed headers), the key derived from
the secret, the signature compared, and X-Amz-Date + X-Amz-Expires against the clock — then
serves the object from moto (read with the same key by boto3). 403 with S3's error code
otherwise.

Usage: presign_gate.py PORT MOTO_ENDPOINT ACCESS_KEY_ID SECRET ; exits when stdin closes.
"""
import datetime
import hashlib
import hmac
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from botocore.config import Config

port, endpoint, kid, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=kid, aws_secret_access_key=secret,
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))


def enc(s):
    return urllib.parse.quote(s, safe="-_.~")


def hm(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def fail(self, code):
        body = f"<Error><Code>{code}</Code></Error>".encode()
        self.send_response(403)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        pairs = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
        q = dict(pairs)
        if q.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or "X-Amz-Signature" not in q:
            return self.fail("AccessDenied")
        cred = q.get("X-Amz-Credential", "").split("/")
        if len(cred) != 5 or cred[0] != kid:
            return self.fail("InvalidAccessKeyId")
        signed_at = datetime.datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
        if time.time() > signed_at + int(q["X-Amz-Expires"]):
            return self.fail("AccessDenied: Request has expired")
        canonical_query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted((k, v) for k, v in pairs if k != "X-Amz-Signature"))
        names = q["X-Amz-SignedHeaders"].split(";")
        canonical_headers = "".join(f"{n}:{(self.headers.get(n) or '').strip()}\n" for n in names)
        creq = "\n".join(["GET", u.path, canonical_query, canonical_headers, q["X-Amz-SignedHeaders"], "UNSIGNED-PAYLOAD"])
        sts = "\n".join(["AWS4-HMAC-SHA256", q["X-Amz-Date"], "/".join(cred[1:]), hashlib.sha256(creq.encode()).hexdigest()])
        k = hm(("AWS4" + secret).encode(), cred[1])
        for part in cred[2:]:
            k = hm(k, part)
        if not hmac.compare_digest(hmac.new(k, sts.encode(), hashlib.sha256).hexdigest(), q["X-Amz-Signature"]):
            return self.fail("SignatureDoesNotMatch")
        bucket, key = u.path.lstrip("/").split("/", 1)
        try:
            body = s3.get_object(Bucket=bucket, Key=urllib.parse.unquote(key))["Body"].read()
        except Exception:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
