"""A small Google Cloud Storage for tests, on loopback: the OAuth2 token endpoint of a service
account and the parts of the XML and JSON APIs Registrar uses, each checking what the real one
checks that matters to us.

  python3 gcs_fixture.py WORKDIR BUCKET [--token-lifetime SECONDS] [--ports FROM-TO] [--page-size N]

Prints "PORT N" when it listens and exits when its stdin closes. Writes WORKDIR/sa-good.json
(a key the account has), sa-wrong.json (a key it does not have).

- POST /token: the RFC 7523 JWT bearer grant. The RS256 signature is verified with the account's
  public key, iss/aud/iat/exp checked, the scope recorded (read_only, read_write, full_control).
  A token lives --token-lifetime seconds (default 3599) and is refused (401) after that.
- Every storage request needs "Authorization: Bearer T" with a token it issued and that has not
  expired: none -> 401, unknown or expired -> 401, a read-only token on a write -> 403.
- XML API (path style /BUCKET/NAME): PUT object (Content-MD5 and x-goog-hash md5=/crc32c= are
  verified: a mismatch is 400 BadDigest, nothing stored), GET with Range, HEAD, DELETE (404 when
  absent, as GCS), the multipart upload (POST ?uploads, PUT ?partNumber&uploadId with Content-MD5,
  POST ?uploadId with the part list, whose ETags must match and whose parts but the last must be
  at least 5 MiB; DELETE ?uploadId), GET /BUCKET?list-type=2 and GET /BUCKET?uploads.
- JSON API listing: GET /storage/v1/b/BUCKET/o?prefix=&pageToken=&maxResults=&startOffset=&fields=
  (items in name order, size/generation as strings, md5Hash/crc32c base64; at most --page-size
  items a page, default 1000 as GCS).
- /_fixture/... (no auth, for tests): GET stats (counts, object GETs per name, issued tokens),
  GET list?prefix= ({name: sha256}),
  POST expire-tokens, POST corrupt-next?n=N (flip one byte of the next N uploaded bodies before
  they are checked: a body damaged on the way), PUT/DELETE object/NAME (change the bucket from
  outside, as another writer would), POST reset-counts.
"""
import base64, hashlib, json, os, secrets, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

args = sys.argv[1:]
workdir, BUCKET = args[0], args[1]
LIFETIME = 3599
PAGE = 1000
if "--page-size" in args:
    PAGE = int(args[args.index("--page-size") + 1])
if "--token-lifetime" in args:
    LIFETIME = int(args[args.index("--token-lifetime") + 1])

EMAIL = "registrar-it@registrar-it.iam.gserviceaccount.com"
SCOPES = {"https://www.googleapis.com/auth/devstorage.read_only": "r",
          "https://www.googleapis.com/auth/devstorage.read_write": "rw",
          "https://www.googleapis.com/auth/devstorage.full_control": "rw",
          "https://www.googleapis.com/auth/cloud-platform": "rw"}
GOOD = rsa.generate_private_key(public_exponent=65537, key_size=2048)
WRONG = rsa.generate_private_key(public_exponent=65537, key_size=2048)
LOCK = threading.Lock()
TOKENS = {}            # token -> (expires_at, access)
OBJECTS = {}           # name -> dict(data, ctype, generation, updated)
UPLOADS = {}           # upload id -> dict(name, ctype, parts {n: bytes})
GENERATION = [1700000000000000]
CORRUPT = [0]
STATS = {}
TOKEN_URI = None


def reset_stats():
    STATS.clear()
    STATS.update({"token_requests": 0, "tokens_issued": 0, "token_refused": 0, "scopes": [], "issued": [],
                  "unauthenticated": 0, "expired": 0, "unknown_token": 0, "forbidden": 0,
                  "bad_digest": 0, "puts_verified": 0, "puts_unverified": 0, "parts": 0, "parts_verified": 0,
                  "multipart_completed": 0, "multipart_aborted": 0, "deletes": 0, "json_list_pages": 0,
                  "xml_list_pages": 0, "object_gets": 0, "gets_per_key": {}, "start_offsets": []})


reset_stats()

CRC_TABLE = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    CRC_TABLE.append(c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return (c ^ 0xFFFFFFFF).to_bytes(4, "big")


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def now_rfc3339():
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def store(name, data, ctype):
    GENERATION[0] += 1
    OBJECTS[name] = {"data": data, "ctype": ctype, "generation": GENERATION[0], "updated": now_rfc3339(),
                     "md5": hashlib.md5(data).digest(), "crc": None}


def crc_of(o):
    """CRC32C computed when first asked for (pure Python: slow on large objects)."""
    if o["crc"] is None:
        o["crc"] = crc32c(o["data"])
    return o["crc"]


def xesc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", ctype="application/xml", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code):
        self.reply(status, ("<?xml version='1.0' encoding='UTF-8'?><Error><Code>%s</Code></Error>" % code).encode())

    def body(self):
        n = int(self.headers.get("Content-Length", "0") or "0")
        data = self.rfile.read(n) if n else b""
        return data

    def split(self):
        u = urllib.parse.urlsplit(self.path)
        return urllib.parse.unquote(u.path), urllib.parse.parse_qs(u.query, keep_blank_values=True)

    def authorize(self, write):
        auth = self.headers.get("Authorization", "")
        with LOCK:
            if not auth.startswith("Bearer "):
                STATS["unauthenticated"] += 1
                return self.error(401, "AuthenticationRequired") or False
            entry = TOKENS.get(auth[7:])
            if entry is None:
                STATS["unknown_token"] += 1
                return self.error(401, "InvalidCredentials") or False
            expires, access = entry
            if time.time() >= expires:
                STATS["expired"] += 1
                return self.error(401, "ExpiredToken") or False
            if write and access != "rw":
                STATS["forbidden"] += 1
                return self.error(403, "AccessDenied") or False
        return True

    def received(self, data):
        """The body as it arrived: a pending corruption flips one byte."""
        with LOCK:
            if CORRUPT[0] > 0 and data:
                CORRUPT[0] -= 1
                data = bytes([data[0] ^ 0xFF]) + data[1:]
        return data

    def checksums_ok(self, data):
        """Content-MD5 and x-goog-hash, as GCS checks them; (ok, verified)."""
        verified = False
        md5 = self.headers.get("Content-MD5")
        if md5 is not None:
            verified = True
            if base64.b64decode(md5) != hashlib.md5(data).digest():
                return False, True
        for part in (self.headers.get("x-goog-hash") or "").split(","):
            k, _, v = part.strip().partition("=")
            if k == "md5":
                verified = True
                if base64.b64decode(v) != hashlib.md5(data).digest():
                    return False, True
            elif k == "crc32c":
                verified = True
                if base64.b64decode(v) != crc32c(data):
                    return False, True
        return True, verified

    # --- token endpoint and fixture controls ---

    def refuse_token(self, why):
        with LOCK:
            STATS["token_refused"] += 1
        self.reply(400, json.dumps({"error": "invalid_grant", "error_description": why}).encode(), "application/json")

    def token(self):
        with LOCK:
            STATS["token_requests"] += 1
        form = urllib.parse.parse_qs(self.body().decode())
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return self.refuse_token("content type")
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return self.refuse_token("grant_type")
        try:
            h, c, s = form["assertion"][0].split(".")
            header, claims = json.loads(b64d(h)), json.loads(b64d(c))
            GOOD.public_key().verify(b64d(s), (h + "." + c).encode(), padding.PKCS1v15(), hashes.SHA256())
        except Exception:
            return self.refuse_token("Invalid JWT Signature.")
        now = time.time()
        if header.get("alg") != "RS256" or claims.get("iss") != EMAIL or claims.get("aud") != TOKEN_URI:
            return self.refuse_token("claims")
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int) or abs(iat - now) > 300 or exp <= now or exp - iat > 3600:
            return self.refuse_token("iat/exp")
        access = None
        for sc in str(claims.get("scope", "")).split():
            if SCOPES.get(sc) == "rw" or (SCOPES.get(sc) == "r" and access is None):
                access = SCOPES[sc]
        if access is None:
            return self.refuse_token("scope")
        token = "ya29.fx-" + secrets.token_urlsafe(32)
        with LOCK:
            TOKENS[token] = (now + LIFETIME, access)
            STATS["tokens_issued"] += 1
            STATS["issued"].append(token)
            STATS["scopes"].append(claims["scope"])
        self.reply(200, json.dumps({"access_token": token, "expires_in": LIFETIME, "token_type": "Bearer"}).encode(), "application/json")

    def fixture(self, path, query):
        what = path[len("/_fixture/"):]
        if what == "stats" and self.command == "GET":
            with LOCK:
                body = json.dumps(dict(STATS, objects=len(OBJECTS), open_uploads=len(UPLOADS))).encode()
            return self.reply(200, body, "application/json")
        if what == "list" and self.command == "GET":
            prefix = query.get("prefix", [""])[0]
            with LOCK:
                body = json.dumps({n: hashlib.sha256(o["data"]).hexdigest() for n, o in OBJECTS.items() if n.startswith(prefix)}).encode()
            return self.reply(200, body, "application/json")
        if what == "expire-tokens":
            with LOCK:
                for t in TOKENS:
                    TOKENS[t] = (0, TOKENS[t][1])
            return self.reply(204)
        if what == "corrupt-next":
            with LOCK:
                CORRUPT[0] = int(query.get("n", ["1"])[0])
            return self.reply(204)
        if what == "reset-counts":
            with LOCK:
                issued = STATS["issued"]
                reset_stats()
                STATS["issued"] = issued
            return self.reply(204)
        if what.startswith("object/"):
            name = what[len("object/"):]
            data = self.body()
            with LOCK:
                if self.command == "PUT":
                    store(name, data, self.headers.get("Content-Type", "application/octet-stream"))
                elif self.command == "DELETE":
                    OBJECTS.pop(name, None)
            return self.reply(204)
        return self.reply(404)

    # --- storage ---

    def do_POST(self):
        path, q = self.split()
        if path == "/token":
            return self.token()
        if path.startswith("/_fixture/"):
            return self.fixture(path, q)
        data = self.body()
        name = self.object_name(path)
        if name is None:
            return self.error(404, "NoSuchBucket")
        if not self.authorize(True):
            return
        if "uploads" in q:
            uid = secrets.token_hex(16)
            with LOCK:
                UPLOADS[uid] = {"name": name, "ctype": self.headers.get("Content-Type", "application/octet-stream"), "parts": {}}
            return self.reply(200, ("<InitiateMultipartUploadResult><Bucket>%s</Bucket><Key>%s</Key><UploadId>%s</UploadId>"
                                    "</InitiateMultipartUploadResult>" % (BUCKET, xesc(name), uid)).encode())
        if "uploadId" in q:
            uid = q["uploadId"][0]
            with LOCK:
                up = UPLOADS.get(uid)
                if up is None or up["name"] != name:
                    return self.error(404, "NoSuchUpload")
                text = data.decode()
                listed = []
                for chunk in text.split("<Part>")[1:]:
                    n = int(chunk.split("<PartNumber>")[1].split("</PartNumber>")[0])
                    etag = chunk.split("<ETag>")[1].split("</ETag>")[0].replace("&quot;", '"').strip('"')
                    listed.append((n, etag))
                if not listed or [n for n, _ in listed] != sorted(n for n, _ in listed):
                    return self.error(400, "InvalidPartOrder")
                assembled = b""
                for i, (n, etag) in enumerate(listed):
                    part = up["parts"].get(n)
                    if part is None or hashlib.md5(part).hexdigest() != etag:
                        return self.error(400, "InvalidPart")
                    if i < len(listed) - 1 and len(part) < 5 << 20:
                        return self.error(400, "EntityTooSmall")
                    assembled += part
                store(name, assembled, up["ctype"])
                del UPLOADS[uid]
                STATS["multipart_completed"] += 1
            return self.reply(200, ("<CompleteMultipartUploadResult><Bucket>%s</Bucket><Key>%s</Key><ETag>\"%s-%d\"</ETag>"
                                    "</CompleteMultipartUploadResult>" % (BUCKET, xesc(name), hashlib.md5(assembled).hexdigest(), len(listed))).encode())
        return self.error(400, "InvalidArgument")

    def do_PUT(self):
        path, q = self.split()
        if path.startswith("/_fixture/"):
            return self.fixture(path, q)
        data = self.received(self.body())
        name = self.object_name(path)
        if not name:
            return self.error(404, "NoSuchBucket")
        if not self.authorize(True):
            return
        ok, verified = self.checksums_ok(data)
        if not ok:
            with LOCK:
                STATS["bad_digest"] += 1
            return self.error(400, "BadDigest")
        etag = '"%s"' % hashlib.md5(data).hexdigest()
        if "uploadId" in q:
            with LOCK:
                up = UPLOADS.get(q["uploadId"][0])
                if up is None or up["name"] != name:
                    return self.error(404, "NoSuchUpload")
                up["parts"][int(q["partNumber"][0])] = data
                STATS["parts"] += 1
                STATS["parts_verified"] += 1 if verified else 0
            return self.reply(200, headers=[("ETag", etag)])
        with LOCK:
            store(name, data, self.headers.get("Content-Type", "application/octet-stream"))
            STATS["puts_verified" if verified else "puts_unverified"] += 1
            obj = OBJECTS[name]
        return self.reply(200, headers=[("ETag", etag), ("x-goog-generation", str(obj["generation"])),
                                        ("x-goog-hash", "md5=%s" % base64.b64encode(obj["md5"]).decode())])

    def do_DELETE(self):
        path, q = self.split()
        if path.startswith("/_fixture/"):
            return self.fixture(path, q)
        name = self.object_name(path)
        if not name:
            return self.error(404, "NoSuchBucket")
        if not self.authorize(True):
            return
        with LOCK:
            if "uploadId" in q:
                if UPLOADS.pop(q["uploadId"][0], None) is None:
                    return self.error(404, "NoSuchUpload")
                STATS["multipart_aborted"] += 1
                return self.reply(204)
            STATS["deletes"] += 1
            if OBJECTS.pop(name, None) is None:
                return self.error(404, "NoSuchKey")
        return self.reply(204)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path, q = self.split()
        if path.startswith("/_fixture/"):
            return self.fixture(path, q)
        if path.startswith("/storage/v1/b/"):
            return self.json_list(path, q)
        if path.rstrip("/") == "/" + BUCKET:
            if not self.authorize(False):
                return
            return self.xml_list(q)
        name = self.object_name(path)
        if not name:
            return self.error(404, "NoSuchBucket")
        if not self.authorize(False):
            return
        with LOCK:
            obj = OBJECTS.get(name)
            if self.command == "GET":
                STATS["object_gets"] += 1
                STATS["gets_per_key"][name] = STATS["gets_per_key"].get(name, 0) + 1
        if obj is None:
            return self.error(404, "NoSuchKey")
        data = obj["data"]
        common = [("ETag", '"%s"' % obj["md5"].hex()), ("Accept-Ranges", "bytes"), ("x-goog-generation", str(obj["generation"]))]
        rng = self.headers.get("Range", "")
        if rng.startswith("bytes="):
            a, _, b = rng[6:].partition("-")
            start, end = int(a), min(int(b) if b else len(data) - 1, len(data) - 1)
            if start >= len(data):
                return self.reply(416, b"", obj["ctype"], common + [("Content-Range", "bytes */%d" % len(data))])
            return self.reply(206, data[start:end + 1], obj["ctype"], common + [("Content-Range", "bytes %d-%d/%d" % (start, end, len(data)))])
        return self.reply(200, data, obj["ctype"], common)

    def object_name(self, path):
        prefix = "/" + BUCKET + "/"
        return path[len(prefix):] if path.startswith(prefix) and len(path) > len(prefix) else None

    def xml_list(self, q):
        prefix = q.get("prefix", [""])[0]
        with LOCK:
            if "uploads" in q:
                rows = "".join("<Upload><Key>%s</Key><UploadId>%s</UploadId></Upload>" % (xesc(u["name"]), uid)
                               for uid, u in UPLOADS.items() if u["name"].startswith(prefix))
                return self.reply(200, ("<ListMultipartUploadsResult><Bucket>%s</Bucket>%s</ListMultipartUploadsResult>" % (BUCKET, rows)).encode())
            STATS["xml_list_pages"] += 1
            names = sorted(n for n in OBJECTS if n.startswith(prefix))
            after = q.get("continuation-token", [""])[0]
            if after:
                names = [n for n in names if n > base64.urlsafe_b64decode(after).decode()]
            limit = int(q.get("max-keys", ["1000"])[0])
            page, more = names[:limit], len(names) > limit
            rows = "".join("<Contents><Key>%s</Key><Size>%d</Size><ETag>\"%s\"</ETag></Contents>" % (xesc(n), len(OBJECTS[n]["data"]), OBJECTS[n]["md5"].hex())
                           for n in page)
        token = "<NextContinuationToken>%s</NextContinuationToken>" % base64.urlsafe_b64encode(page[-1].encode()).decode() if more else ""
        self.reply(200, ("<ListBucketResult><Name>%s</Name><Prefix>%s</Prefix><KeyCount>%d</KeyCount><IsTruncated>%s</IsTruncated>%s%s</ListBucketResult>"
                         % (BUCKET, xesc(prefix), len(page), "true" if more else "false", token, rows)).encode())

    def json_list(self, path, q):
        parts = path.split("/")  # ['', 'storage', 'v1', 'b', BUCKET, 'o']
        if len(parts) != 6 or parts[5] != "o":
            return self.reply(404, b'{"error":{"code":404,"message":"Not Found"}}', "application/json")
        if parts[4] != BUCKET:
            return self.reply(404, b'{"error":{"code":404,"message":"The specified bucket does not exist."}}', "application/json")
        if not self.authorize(False):
            return
        prefix = q.get("prefix", [""])[0]
        start = q.get("startOffset", [""])[0]
        token = q.get("pageToken", [""])[0]
        limit = min(int(q.get("maxResults", ["1000"])[0]), PAGE)
        with LOCK:
            STATS["json_list_pages"] += 1
            if start:
                STATS["start_offsets"].append(start)
            names = sorted(n for n in OBJECTS if n.startswith(prefix) and n >= start)
            if token:
                after = base64.urlsafe_b64decode(token).decode()
                names = [n for n in names if n > after]
            page, more = names[:limit], len(names) > limit
            items = []
            for n in page:
                o = OBJECTS[n]
                items.append({"kind": "storage#object", "id": "%s/%s/%d" % (BUCKET, n, o["generation"]), "name": n, "bucket": BUCKET,
                              "generation": str(o["generation"]), "metageneration": "1", "contentType": o["ctype"],
                              "size": str(len(o["data"])), "md5Hash": base64.b64encode(o["md5"]).decode(),
                              "crc32c": base64.b64encode(crc_of(o)).decode(), "etag": base64.b64encode(o["md5"][:8]).decode(),
                              "updated": o["updated"], "timeCreated": o["updated"], "storageClass": "STANDARD"})
        fields = q.get("fields", [""])[0]
        if fields:
            # fields=nextPageToken,items(name,size,...): keep only what was asked for.
            inner = fields[fields.find("items(") + 6:fields.find(")", fields.find("items("))].split(",") if "items(" in fields else None
            if inner is not None:
                items = [{k: v for k, v in it.items() if k in inner} for it in items]
        doc = {"kind": "storage#objects", "items": items}
        if more:
            doc["nextPageToken"] = base64.urlsafe_b64encode(page[-1].encode()).decode()
        self.reply(200, json.dumps(doc).encode(), "application/json")


def key_file(key, name):
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    doc = {"type": "service_account", "project_id": "registrar-it", "private_key_id": secrets.token_hex(20),
           "private_key": pem, "client_email": EMAIL, "client_id": "109876543210987654321",
           "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": TOKEN_URI,
           "universe_domain": "googleapis.com"}
    with open(os.path.join(workdir, name), "w") as f:
        json.dump(doc, f)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def listen():
    if "--ports" not in args:
        return Server(("127.0.0.1", 0), Handler)
    a, _, b = args[args.index("--ports") + 1].partition("-")
    for p in range(int(a), int(b) + 1):
        try:
            return Server(("127.0.0.1", p), Handler)
        except OSError:
            pass
    sys.exit("no free port in %s-%s" % (a, b))


server = listen()
TOKEN_URI = "http://127.0.0.1:%d/token" % server.server_address[1]
key_file(GOOD, "sa-good.json")
key_file(WRONG, "sa-wrong.json")
print("PORT %d" % server.server_address[1], flush=True)


def watch_stdin():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


threading.Thread(target=watch_stdin, daemon=True).start()
server.serve_forever()
