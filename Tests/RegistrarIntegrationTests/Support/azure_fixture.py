"""A small fake Azure Blob service for the tests (there is no Azurite here): the calls Registrar
makes — Put Blob, Put Block, Put Block List, Get Blob (ranged), Get Blob Properties, Delete Blob,
List Blobs, Create Container — in the emulators' path style (ENDPOINT/ACCOUNT/CONTAINER/BLOB).

Every request must be authorized, as the service does:
  * Shared Key: the string to sign is rebuilt from the request as received with the official
    SDK's own code (azure-storage-blob's SharedKeyCredentialPolicy: verb, standard headers,
    canonicalized x-ms-* headers in the service's collation, canonicalized resource and query),
    except that the Range header's value is signed as the service signs it (the SDK names it
    `byte_range` and so never signs it: it only ever sends x-ms-range). The HMAC is the SDK's
    sign_string; x-ms-date must be within 15 minutes of now.
  * a service SAS (sr=c or sr=b): regenerated with the SDK's BlobSharedAccessSignature from the
    token's own fields and compared; `se` must not have passed and `sp` must allow the call.
Anything else is 403 AuthenticationFailed (or AuthorizationPermissionMismatch), as Azure answers.
Bodies are checked: Content-Length, Content-MD5 on Put Blob, Put Block and Put Block List (400
Md5Mismatch), and a Put Block List's x-ms-blob-content-md5 against the committed bytes.

Unauthenticated control calls for the tests live under /_fixture/ (bulk writes and deletes,
per-blob GET counts, uncommitted block counts, a SAS made with the SDK).

Usage: azure_fixture.py PORT ACCOUNT BASE64KEY ; exits when stdin closes.
"""
import base64
import datetime
import email.utils
import hashlib
import json
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

from azure.storage.blob._shared import sign_string
from azure.storage.blob._shared.authentication import SharedKeyCredentialPolicy
from azure.storage.blob._shared_access_signature import BlobSharedAccessSignature

port, account, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
policy = SharedKeyCredentialPolicy(account, key)
STANDARD = ["content-encoding", "content-language", "content-length", "content-md5", "content-type", "date",
            "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range"]

lock = threading.Lock()
containers = {}        # name -> {blob name -> dict(data, type, md5, etag, modified)}
uncommitted = {}       # (container, blob) -> {block id -> bytes}
gets = {}              # "container/blob" -> GET count (Get Blob calls)
stats = {"auth_failures": 0, "md5_failures": 0, "blocks": 0, "block_lists": 0, "list_calls": 0}
# The service may answer fewer blobs than maxresults (with a NextMarker): the tests cap pages to see paging.
page_cap = [5000]
etag_counter = [0]


def now_http():
    return email.utils.formatdate(usegmt=True)


def new_etag():
    etag_counter[0] += 1
    return '"0x8D%013X"' % etag_counter[0]


def md5_b64(b):
    return base64.b64encode(hashlib.md5(b).digest()).decode()


def store(container, name, data, content_type, md5):
    containers.setdefault(container, {})[name] = {"data": data, "type": content_type or "application/octet-stream",
                                                  "md5": md5, "etag": new_etag(), "modified": now_http()}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    # -- answers --------------------------------------------------------------------------
    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("x-ms-version", "2021-08-06")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code, message=""):
        body = ('<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>%s</Message></Error>' % (code, message)).encode()
        self.answer(status, body, [("Content-Type", "application/xml"), ("x-ms-error-code", code)])

    # -- authorization ---------------------------------------------------------------------
    def authorized(self, container, blob, permission):
        """True when the request carries a valid Shared Key or SAS; else answers 403 itself."""
        query = urllib.parse.parse_qs(self.split.query, keep_blank_values=True)
        if "sig" in query:
            return self.check_sas(query, container, blob, permission)
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("SharedKey " + account + ":"):
            return self.deny("no Shared Key authorization for account %s" % account)
        date = self.headers.get("x-ms-date") or self.headers.get("Date")
        try:
            signed_at = email.utils.parsedate_to_datetime(date).timestamp()
        except Exception:
            return self.deny("no valid x-ms-date")
        if abs(time.time() - signed_at) > 15 * 60:
            return self.deny("the request date is more than 15 minutes from the server's time")
        headers = {}
        for name, value in self.headers.items():
            headers[name.lower()] = value
        raw_query = {}
        for pair in self.split.query.split("&"):
            if pair:
                k, _, v = pair.partition("=")
                raw_query[urllib.parse.unquote(k)] = v
        fake = SimpleNamespace(http_request=SimpleNamespace(method=self.command, url="http://fixture" + self.path,
                                                            headers=headers, query=raw_query),
                               context=SimpleNamespace(transport=None))
        string_to_sign = (policy._get_verb(fake) + policy._get_headers(fake, STANDARD) + policy._get_canonicalized_headers(fake)
                          + policy._get_canonicalized_resource(fake) + policy._get_canonicalized_resource_query(fake))
        expected = "SharedKey %s:%s" % (account, sign_string(key, string_to_sign))
        if expected != auth:
            return self.deny("the MAC signature found in the request is not the same as any computed signature")
        return True

    def check_sas(self, query, container, blob, permission):
        q = {k: v[0] for k, v in query.items()}
        sr, sp, se = q.get("sr"), q.get("sp", ""), q.get("se", "")
        gen = BlobSharedAccessSignature(account, key)
        if sr == "c":
            token = gen.generate_container(container, permission=sp, expiry=se, start=q.get("st"), protocol=q.get("spr"))
        elif sr == "b":
            token = gen.generate_blob(container, blob, permission=sp, expiry=se, start=q.get("st"), protocol=q.get("spr"))
        else:
            return self.deny("unsupported SAS resource %r" % sr)
        want = {k: v[0] for k, v in urllib.parse.parse_qs(token).items()}
        if want.get("sv") != q.get("sv") or want.get("sig") != q.get("sig"):
            return self.deny("the SAS signature does not match")
        try:
            expiry = datetime.datetime.strptime(se, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            return self.deny("the SAS expiry is not a time")
        if time.time() > expiry:
            return self.deny("Signed expiry time has to be after signed start time / the SAS has expired")
        if permission not in sp:
            stats["auth_failures"] += 1
            self.error(403, "AuthorizationPermissionMismatch", "This request is not authorized to perform this operation using this permission.")
            return False
        return True

    def deny(self, detail):
        stats["auth_failures"] += 1
        self.error(403, "AuthenticationFailed",
                   "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature. " + detail)
        return False

    # -- routing ---------------------------------------------------------------------------
    def route(self):
        self.split = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        parts = self.split.path.split("/", 3)   # '', account, container, blob
        if len(parts) > 1 and parts[1] == "_fixture":
            return self.control(parts[2:])
        if len(parts) < 3 or parts[1] != account:
            return self.error(400, "InvalidUri", "expected /%s/CONTAINER[/BLOB]" % account)
        container = urllib.parse.unquote(parts[2])
        blob = urllib.parse.unquote(parts[3]) if len(parts) > 3 else ""
        q = {k: v[0] for k, v in urllib.parse.parse_qs(self.split.query, keep_blank_values=True).items()}
        if not self.headers.get("x-ms-version"):
            return self.error(400, "MissingRequiredHeader", "x-ms-version")
        if not blob:
            if self.command == "PUT" and q.get("restype") == "container":
                if not self.authorized(container, "", "c"):
                    return
                with lock:
                    if container in containers:
                        return self.error(409, "ContainerAlreadyExists")
                    containers[container] = {}
                return self.answer(201)
            if self.command == "GET" and q.get("restype") == "container" and q.get("comp") == "list":
                if not self.authorized(container, "", "l"):
                    return
                return self.list_blobs(container, q)
            return self.error(400, "UnsupportedHttpVerb")
        perm = {"GET": "r", "HEAD": "r", "PUT": "w", "DELETE": "d"}.get(self.command, "?")
        if not self.authorized(container, blob, perm):
            return
        with lock:
            if container not in containers:
                return self.error(404, "ContainerNotFound")
        if self.command == "PUT":
            if len(self.body) != length:
                return self.error(400, "InvalidInput", "the body is shorter than Content-Length")
            given = self.headers.get("Content-MD5")
            if given is not None and given != md5_b64(self.body):
                stats["md5_failures"] += 1
                return self.error(400, "Md5Mismatch", "The MD5 value specified in the request did not match with the MD5 value calculated by the server.")
            comp = q.get("comp")
            if comp == "block":
                return self.put_block(container, blob, q.get("blockid", ""))
            if comp == "blocklist":
                return self.put_block_list(container, blob)
            if self.headers.get("x-ms-blob-type") != "BlockBlob":
                return self.error(400, "MissingRequiredHeader", "x-ms-blob-type")
            with lock:
                store(container, blob, self.body, self.headers.get("x-ms-blob-content-type") or self.headers.get("Content-Type"),
                      given or md5_b64(self.body))
                uncommitted.pop((container, blob), None)
                b = containers[container][blob]
            return self.answer(201, headers=[("ETag", b["etag"]), ("Last-Modified", b["modified"]), ("Content-MD5", b["md5"])])
        with lock:
            b = containers[container].get(blob)
        if b is None:
            return self.error(404, "BlobNotFound", "The specified blob does not exist.")
        if self.command == "DELETE":
            with lock:
                containers[container].pop(blob, None)
            return self.answer(202)
        return self.get_blob(container, blob, b)

    def put_block(self, container, blob, block_id):
        try:
            raw = base64.b64decode(block_id, validate=True)
        except Exception:
            return self.error(400, "InvalidQueryParameterValue", "blockid")
        if not raw or len(raw) > 64:
            return self.error(400, "InvalidQueryParameterValue", "blockid")
        with lock:
            uncommitted.setdefault((container, blob), {})[block_id] = self.body
            stats["blocks"] += 1
        return self.answer(201)

    def put_block_list(self, container, blob):
        text = self.body.decode()
        ids = []
        for m in re.finditer(r"<(Latest|Uncommitted|Committed)>([^<]*)</\1>", text):
            ids.append(m.group(2))
        with lock:
            blocks = uncommitted.get((container, blob), {})
            if not ids or any(i not in blocks for i in ids) or len({len(i) for i in ids}) != 1:
                return self.error(400, "InvalidBlockList", "The specified block list is invalid.")
            data = b"".join(blocks[i] for i in ids)
            want = self.headers.get("x-ms-blob-content-md5")
            if want is not None and want != md5_b64(data):
                stats["md5_failures"] += 1
                return self.error(400, "Md5Mismatch", "x-ms-blob-content-md5 does not match the committed blocks")
            store(container, blob, data, self.headers.get("x-ms-blob-content-type"), want)
            stats["block_lists"] += 1
            uncommitted.pop((container, blob), None)
            b = containers[container][blob]
        return self.answer(201, headers=[("ETag", b["etag"]), ("Last-Modified", b["modified"])])

    def get_blob(self, container, blob, b):
        data = b["data"]
        if self.command == "GET":
            with lock:
                gets[container + "/" + blob] = gets.get(container + "/" + blob, 0) + 1
        headers = [("Content-Type", b["type"]), ("ETag", b["etag"]), ("Last-Modified", b["modified"]),
                   ("x-ms-blob-type", "BlockBlob"), ("Accept-Ranges", "bytes")]
        if b["md5"]:
            headers.append(("x-ms-blob-content-md5", b["md5"]))
        spec = self.headers.get("x-ms-range") or self.headers.get("Range")
        if spec and spec.startswith("bytes=") and self.command == "GET":
            a, _, z = spec[6:].partition("-")
            start = int(a)
            end = min(int(z) if z else len(data) - 1, len(data) - 1)
            if start >= len(data):
                return self.error(416, "InvalidRange", "The range specified is invalid for the current size of the resource.")
            headers.append(("Content-Range", "bytes %d-%d/%d" % (start, end, len(data))))
            return self.answer(206, data[start:end + 1], headers)
        if b["md5"]:
            headers.append(("Content-MD5", b["md5"]))
        return self.answer(200, data, headers)

    def list_blobs(self, container, q):
        with lock:
            if container not in containers:
                return self.error(404, "ContainerNotFound")
            names = sorted(n for n in containers[container] if n.startswith(q.get("prefix", "")))
            marker = q.get("marker", "")
            if marker:
                start_at = base64.urlsafe_b64decode(marker.encode()).decode()
                names = [n for n in names if n >= start_at]
            limit = min(int(q.get("maxresults") or 5000), page_cap[0])
            stats["list_calls"] += 1
            page, rest = names[:limit], names[limit:]
            out = ['<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="http://127.0.0.1:%d/%s/" ContainerName="%s">'
                   % (port, account, container), "<Prefix>%s</Prefix>" % esc(q.get("prefix", "")), "<MaxResults>%d</MaxResults><Blobs>" % limit]
            for n in page:
                b = containers[container][n]
                out.append("<Blob><Name>%s</Name><Properties><Creation-Time>%s</Creation-Time><Last-Modified>%s</Last-Modified>"
                           "<Etag>%s</Etag><Content-Length>%d</Content-Length><Content-Type>%s</Content-Type><Content-Encoding />"
                           "<Content-MD5>%s</Content-MD5><BlobType>BlockBlob</BlobType><LeaseStatus>unlocked</LeaseStatus></Properties>"
                           "<OrMetadata /></Blob>" % (esc(n), b["modified"], b["modified"], b["etag"], len(b["data"]), esc(b["type"]), b["md5"] or ""))
            out.append("</Blobs>")
            out.append("<NextMarker>%s</NextMarker>" % (base64.urlsafe_b64encode(rest[0].encode()).decode() if rest else ""))
            out.append("</EnumerationResults>")
        return self.answer(200, "".join(out).encode(), [("Content-Type", "application/xml")])

    # -- control (tests only) ----------------------------------------------------------------
    def control(self, parts):
        what = parts[0] if parts else ""
        if what == "bulk" and self.command == "POST":
            # {"pageCap": N, "containers": [name], "put": [{"container", "name", "file" | "text", "append", "contentType", "md5": true}],
            #  "delete": [{"container", "name"}]}
            req = json.loads(self.body or b"{}")
            with lock:
                if "pageCap" in req:
                    page_cap[0] = int(req["pageCap"])
                for c in req.get("containers", []):
                    containers.setdefault(c, {})
                for p in req.get("put", []):
                    data = (open(p["file"], "rb").read() if "file" in p else p.get("text", "").encode()) + p.get("append", "").encode()
                    store(p["container"], p["name"], data, p.get("contentType"), md5_b64(data) if p.get("md5", True) else None)
                for d in req.get("delete", []):
                    containers.get(d["container"], {}).pop(d["name"], None)
            return self.answer(200, b"{}", [("Content-Type", "application/json")])
        if what == "gets":
            with lock:
                body = json.dumps(gets).encode()
                if self.command == "DELETE":
                    gets.clear()
            return self.answer(200, body, [("Content-Type", "application/json")])
        if what == "stats":
            with lock:
                body = json.dumps(dict(stats, uncommitted_blocks=sum(len(v) for v in uncommitted.values()),
                                       blobs={c: len(v) for c, v in containers.items()})).encode()
            return self.answer(200, body, [("Content-Type", "application/json")])
        if what == "sas":
            q = {k: v[0] for k, v in urllib.parse.parse_qs(self.split.query).items()}
            expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=int(q.get("seconds", "3600")))
            token = BlobSharedAccessSignature(account, key).generate_container(
                q["container"], permission=q.get("permissions", "rwdlc"), expiry=expiry.strftime("%Y-%m-%dT%H:%M:%SZ"))
            return self.answer(200, token.encode(), [("Content-Type", "text/plain")])
        return self.error(404, "NoSuchControl")

    do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = route


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
