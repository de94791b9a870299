#!/usr/bin/env python3
"""Writes the signing fixtures RegistrarCore's SigningTests compare against, computed by each
provider's official client library for the same requests (fixed dates and example credentials):

  Tests/RegistrarCoreTests/Fixtures/signing/botocore-sigv4.json   botocore S3SigV4Auth / S3SigV4QueryAuth
                                                                  (and SigV4Auth for a non-S3 service)
  Tests/RegistrarCoreTests/Fixtures/signing/botocore-sigv4a.json  botocore's CRT signers (awscrt):
                                                                  CrtS3SigV4AsymAuth / CrtS3SigV4AsymQueryAuth
  Tests/RegistrarCoreTests/Fixtures/signing/azure-sharedkey.json  azure-storage-blob's SharedKeyCredentialPolicy

The JSON is committed; this script is only needed to regenerate it:

  pip install botocore awscrt azure-storage-blob
  python3 scripts/signing-vectors.py            # from the package root

Every credential here is a published example key (AWS docs, Azurite's well-known dev key) or a
made-up one; none is real.
"""

import datetime
import hashlib
import json
import os
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "RegistrarCoreTests", "Fixtures", "signing")

AWS_KEYS = [
    ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", None),
    ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None),
    ("ASIAEXAMPLETEMPORARY", "tmpSecret/with+plus=and/slash0123456789ab",
     "FwoGZXIvYXdzEXAMPLE//////////wEaDEXAMPLETOKEN+with/odd=chars"),
]

DATES = [
    datetime.datetime(2013, 5, 24, 0, 0, 0),
    datetime.datetime(2024, 2, 29, 23, 59, 59),
    datetime.datetime(2026, 11, 20, 8, 5, 3),
]


def sha256_hex(b):
    return hashlib.sha256(b).hexdigest()


# (name, method, url, headers, body or None for UNSIGNED-PAYLOAD, region, key index, date index)
SIGV4_REQUESTS = [
    ("get-object-range", "GET", "https://examplebucket.s3.amazonaws.com/test.txt",
     [("Range", "bytes=0-9")], b"", "us-east-1", 0, 0),
    ("get-object-unsigned", "GET", "https://examplebucket.s3.amazonaws.com/photos/2024/cat.jpg",
     [("Range", "bytes=0-65535")], None, "us-east-1", 0, 1),
    ("head-object", "HEAD", "https://my-bucket.s3.eu-central-1.amazonaws.com/data/file.csv",
     [], None, "eu-central-1", 1, 2),
    ("path-style", "GET", "https://s3.us-west-2.amazonaws.com/my-bucket/dir/sub%20dir/x.png",
     [], None, "us-west-2", 0, 1),
    ("key-space-plus-unicode", "GET",
     "https://my-bucket.s3.amazonaws.com/a%20b%2Bc/%E6%97%A5%E6%9C%AC%E8%AA%9E/%C3%A9t%C3%A9.jpg",
     [], None, "us-east-1", 1, 2),
    ("key-reserved-chars", "GET",
     "https://my-bucket.s3.amazonaws.com/k%21%27%28%29%2A%3B%3A%40%26%3D%24%2C%3F%23%5B%5D~-_.txt",
     [], None, "us-east-1", 0, 0),
    ("key-encoded-slash", "GET", "https://my-bucket.s3.amazonaws.com/folder%2Fnot-a-folder/x",
     [], None, "us-east-1", 0, 1),
    ("key-double-slash", "GET", "https://my-bucket.s3.amazonaws.com/a//b/./c/../d",
     [], None, "us-east-1", 0, 2),
    ("list-objects-v2", "GET",
     "https://my-bucket.s3.amazonaws.com/?list-type=2&prefix=photos%2F2024%2F&max-keys=1000"
     "&continuation-token=1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2Fwm36Hy4vbOwM%3D&delimiter=%2F",
     [], b"", "us-east-1", 1, 1),
    ("query-empty-values", "GET", "https://my-bucket.s3.amazonaws.com/?acl&versioning=&tagging",
     [], b"", "us-east-1", 0, 2),
    ("query-repeated-key", "GET", "https://my-bucket.s3.amazonaws.com/obj?b=2&a=3&a=1&A=0",
     [], None, "us-east-1", 0, 0),
    ("query-unicode-value", "GET", "https://my-bucket.s3.amazonaws.com/?prefix=%C3%A9t%C3%A9%20x&encoding-type=url",
     [], None, "ap-southeast-2", 1, 1),
    ("session-token", "GET", "https://my-bucket.s3.us-east-2.amazonaws.com/private/report.pdf",
     [("Range", "bytes=100-199")], None, "us-east-2", 2, 2),
    ("put-object-signed-body", "PUT", "https://examplebucket.s3.amazonaws.com/test%24file.text",
     [("Content-Type", "text/plain"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
     b"Welcome to Amazon S3.", "us-east-1", 0, 0),
    ("header-whitespace-and-case", "GET", "https://my-bucket.s3.amazonaws.com/obj",
     [("X-Amz-Meta-Note", "  two   spaces\tand tab  "), ("If-None-Match", "\"etag-1\""),
      ("x-amz-meta-Note", "second value")], None, "us-east-1", 1, 2),
    ("user-agent-not-signed", "GET", "https://my-bucket.s3.amazonaws.com/obj",
     [("User-Agent", "registrar/1.0"), ("X-Amzn-Trace-Id", "Root=1-xyz"), ("Accept", "*/*")],
     None, "us-east-1", 1, 1),
    ("minio-custom-port-http", "GET", "http://127.0.0.1:9000/bucket/key.bin",
     [("Range", "bytes=0-1023")], None, "us-east-1", 0, 2),
    ("otc-obs", "GET", "https://my-bucket.obs.eu-de.otc.t-systems.com/images/a.jpg",
     [], None, "eu-de", 1, 0),
    ("wasabi", "GET", "https://s3.eu-central-2.wasabisys.com/bucket/a%20b.jpg",
     [], None, "eu-central-2", 0, 1),
    ("oracle-compat", "GET",
     "https://mynamespace.compat.objectstorage.us-ashburn-1.oraclecloud.com/bucket/obj.tif",
     [], None, "us-ashburn-1", 1, 2),
    ("default-port-dropped", "GET", "https://my-bucket.s3.amazonaws.com:443/obj",
     [], None, "us-east-1", 0, 0),
    ("mrap-host", "GET", "https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/key/x.jpg",
     [], None, "us-east-1", 1, 1),
]

# (name, url, headers, region, key index, date index, expires)
PRESIGN_REQUESTS = [
    ("doc-example", "https://examplebucket.s3.amazonaws.com/test.txt", [], "us-east-1", 0, 0, 86400),
    ("session-token", "https://my-bucket.s3.us-east-2.amazonaws.com/private/report.pdf", [], "us-east-2", 2, 1, 3600),
    ("unicode-key", "https://my-bucket.s3.amazonaws.com/%E6%97%A5%E6%9C%AC/a%20b%2Bc.jpg", [], "us-east-1", 1, 2, 900),
    ("response-overrides", "https://my-bucket.s3.amazonaws.com/obj.bin?response-content-disposition="
     "attachment%3B%20filename%3D%22a%20b.bin%22&response-content-type=application%2Foctet-stream",
     [], "us-east-1", 0, 1, 604800),
    ("path-style-port", "http://localhost:9000/bucket/dir/key.txt", [], "us-east-1", 1, 0, 60),
    ("signed-range-header", "https://my-bucket.s3.amazonaws.com/big.bin", [("Range", "bytes=0-99")],
     "eu-west-1", 0, 2, 300),
    ("version-id", "https://my-bucket.s3.amazonaws.com/obj?versionId=3HL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY",
     [], "us-east-1", 2, 2, 7200),
]


class _S3Config:
    def __init__(self, payload_signing_enabled):
        self.s3 = {"payload_signing_enabled": payload_signing_enabled}


def _freeze_time(module, when):
    def fixed(remove_tzinfo=True):
        if remove_tzinfo:
            return when
        return when.replace(tzinfo=datetime.timezone.utc)
    module.get_current_datetime = fixed


def _capture_canonical(signer):
    seen = {}
    original_creq = signer.canonical_request
    original_sts = signer.string_to_sign

    def creq(request):
        seen["canonicalRequest"] = original_creq(request)
        return seen["canonicalRequest"]

    def sts(request, canonical_request):
        seen["stringToSign"] = original_sts(request, canonical_request)
        return seen["stringToSign"]

    signer.canonical_request = creq
    signer.string_to_sign = sts
    return seen


def _aws_request(method, url, headers, body=None):
    from botocore.awsrequest import AWSRequest
    req = AWSRequest(method=method, url=url, headers={}, data=body if body else None)
    for k, v in headers:  # HTTPHeaders appends, so a repeated name stays repeated
        req.headers[k] = v
    return req


def _creds(index):
    from botocore.credentials import Credentials
    ak, sk, tok = AWS_KEYS[index]
    return Credentials(ak, sk, tok), {"accessKeyID": ak, "secretAccessKey": sk, "sessionToken": tok}


def sigv4_vectors():
    import botocore
    import botocore.auth as auth

    cases = []
    for name, method, url, headers, body, region, ki, di in SIGV4_REQUESTS:
        _freeze_time(auth, DATES[di])
        creds, creds_json = _creds(ki)
        req = _aws_request(method, url, headers, body)
        req.context["client_config"] = _S3Config(body is not None)
        signer = auth.S3SigV4Auth(creds, "s3", region)
        seen = _capture_canonical(signer)
        signer.add_auth(req)
        added = [(k, v) for k, v in req.headers.items()
                 if k.lower() in ("authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token")]
        cases.append({
            "name": "s3-" + name, "kind": "header", "service": "s3", "region": region,
            "method": method, "url": url, "headers": [list(h) for h in headers],
            "payloadHash": sha256_hex(body) if body is not None else None,
            "credentials": creds_json, "date": DATES[di].strftime("%Y%m%dT%H%M%SZ"),
            "expected": {"headers": [list(h) for h in added], **seen},
        })

    # One non-S3 service, to pin the twice-encoded, normalised path of plain SigV4.
    for name, url, ki, di in [
        ("standard-double-encode", "https://example.amazonaws.com/a%20b/./c//d%2Fe", 1, 1),
        ("standard-query", "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15", 2, 2),
    ]:
        _freeze_time(auth, DATES[di])
        creds, creds_json = _creds(ki)
        req = _aws_request("GET", url, [])
        signer = auth.SigV4Auth(creds, "service", "us-east-1")
        seen = _capture_canonical(signer)
        signer.add_auth(req)
        added = [(k, v) for k, v in req.headers.items()
                 if k.lower() in ("authorization", "x-amz-date", "x-amz-security-token")]
        cases.append({
            "name": name, "kind": "header", "service": "service", "region": "us-east-1",
            "method": "GET", "url": url, "headers": [], "payloadHash": sha256_hex(b""),
            "credentials": creds_json, "date": DATES[di].strftime("%Y%m%dT%H%M%SZ"),
            "expected": {"headers": [list(h) for h in added], **seen},
        })

    for name, url, headers, region, ki, di, expires in PRESIGN_REQUESTS:
        _freeze_time(auth, DATES[di])
        creds, creds_json = _creds(ki)
        req = _aws_request("GET", url, headers)
        signer = auth.S3SigV4QueryAuth(creds, "s3", region, expires=expires)
        seen = _capture_canonical(signer)
        signer.add_auth(req)
        cases.append({
            "name": "presign-" + name, "kind": "presign", "service": "s3", "region": region,
            "method": "GET", "url": url, "headers": [list(h) for h in headers], "payloadHash": None,
            "credentials": creds_json, "date": DATES[di].strftime("%Y%m%dT%H%M%SZ"), "expires": expires,
            "expected": {"url": req.url, **seen},
        })
    return {"generator": "botocore " + botocore.__version__, "cases": cases}


def sigv4a_vectors():
    import botocore
    import botocore.crt.auth as crt_auth
    import awscrt

    cases = []
    specs = [
        ("get-star", "GET", "https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/key/x.jpg",
         [("Range", "bytes=0-9")], "*", 0, 0, None),
        ("get-region-list", "GET", "https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/a%20b/%C3%A9.png",
         [], "us-east-1,us-west-2", 1, 1, None),
        ("session-token-query", "GET",
         "https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/?list-type=2&prefix=p%2Fq",
         [], "*", 2, 2, None),
        ("presign", "GET", "https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/obj.bin",
         [], "*", 1, 2, 3600),
        ("presign-token", "GET", "https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/d/obj.bin",
         [], "us-east-1,eu-west-1", 2, 1, 900),
    ]
    for name, method, url, headers, region_set, ki, di, expires in specs:
        _freeze_time(crt_auth, DATES[di])
        creds, creds_json = _creds(ki)
        req = _aws_request(method, url, headers)
        req.context["client_config"] = _S3Config(False)
        if expires is None:
            signer = crt_auth.CrtS3SigV4AsymAuth(creds, "s3", region_set)
        else:
            signer = crt_auth.CrtS3SigV4AsymQueryAuth(creds, "s3", region_set, expires=expires)
        signer.add_auth(req)
        expected = {}
        if expires is None:
            expected["headers"] = [list(h) for h in req.headers.items() if h[0].lower() in (
                "authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "x-amz-region-set")]
        else:
            expected["url"] = req.url
        cases.append({
            "name": name, "kind": "header" if expires is None else "presign", "service": "s3",
            "regionSet": region_set.split(","), "method": method, "url": url,
            "headers": [list(h) for h in headers], "payloadHash": None, "credentials": creds_json,
            "date": DATES[di].strftime("%Y%m%dT%H%M%SZ"), "expires": expires, "expected": expected,
        })
    return {"generator": "botocore %s + awscrt %s" % (botocore.__version__, awscrt.__version__), "cases": cases}


AZURITE_ACCOUNT = "devstoreaccount1"
# Azurite's published, well-known development key.
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
MADE_UP_ACCOUNT = "registrartest"
MADE_UP_KEY = "cmVnaXN0cmFyLXRlc3Qta2V5LW5vdC1hLXJlYWwtb25lLTAxMjM0NTY3ODk="


def azure_vectors():
    import azure.storage.blob
    from azure.core.pipeline import PipelineContext, PipelineRequest
    from azure.core.pipeline.transport import HttpRequest
    from azure.storage.blob._shared.authentication import SharedKeyCredentialPolicy

    base = "https://registrartest.blob.core.windows.net"
    specs = [
        ("get-blob", "GET", base + "/container/photos/cat.jpg", [], MADE_UP_ACCOUNT, MADE_UP_KEY, 0, "2021-08-06"),
        ("get-blob-range", "GET", base + "/container/big.bin", [("x-ms-range", "bytes=0-1023")],
         MADE_UP_ACCOUNT, MADE_UP_KEY, 1, "2021-08-06"),
        ("head-blob", "HEAD", base + "/container/dir/a%20b.txt", [], MADE_UP_ACCOUNT, MADE_UP_KEY, 2, "2023-11-03"),
        ("unicode-blob", "GET", base + "/container/%E6%97%A5%E6%9C%AC/%C3%A9t%C3%A9.png", [],
         MADE_UP_ACCOUNT, MADE_UP_KEY, 0, "2021-08-06"),
        ("list-blobs", "GET", base + "/container?restype=container&comp=list&prefix=photos%2F2024%2F&maxresults=5000",
         [], MADE_UP_ACCOUNT, MADE_UP_KEY, 1, "2021-08-06"),
        ("list-marker", "GET", base + "/container?restype=container&comp=list&marker=2%21120%21MDAwMDE0IXBob3Rvcy8%3D",
         [], MADE_UP_ACCOUNT, MADE_UP_KEY, 2, "2021-08-06"),
        ("service-properties", "GET", base + "/?restype=service&comp=properties", [],
         MADE_UP_ACCOUNT, MADE_UP_KEY, 0, "2021-08-06"),
        ("put-blob", "PUT", base + "/container/upload.txt",
         [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "21"), ("x-ms-blob-type", "BlockBlob"),
          ("Content-MD5", "Q2hlY2sgSW50ZWdyaXR5IQ=="), ("x-ms-meta-owner", "registrar")],
         MADE_UP_ACCOUNT, MADE_UP_KEY, 1, "2021-08-06"),
        ("conditional-get", "GET", base + "/container/obj",
         [("If-Match", "\"0x8D4BCC2E4835CD0\""), ("If-Modified-Since", "Sat, 01 Jan 2022 00:00:00 GMT"),
          ("If-None-Match", "*"), ("If-Unmodified-Since", "Sun, 02 Jan 2022 00:00:00 GMT")],
         MADE_UP_ACCOUNT, MADE_UP_KEY, 2, "2021-08-06"),
        ("content-length-zero", "PUT", base + "/container/empty",
         [("Content-Length", "0"), ("x-ms-blob-type", "BlockBlob")], MADE_UP_ACCOUNT, MADE_UP_KEY, 0, "2021-08-06"),
        ("meta-header-order", "PUT", base + "/container/meta?comp=metadata",
         [("x-ms-meta-ab", "1"), ("x-ms-meta-a-c", "2"), ("x-ms-meta-a_b", "3"), ("x-ms-meta-Z", "4"),
          ("x-ms-client-request-id", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"), ("x-ms-meta-a", "5")],
         MADE_UP_ACCOUNT, MADE_UP_KEY, 1, "2021-08-06"),
        ("snapshot-query", "GET", base + "/container/obj?snapshot=2024-02-29T23%3A59%3A59.1234567Z",
         [], MADE_UP_ACCOUNT, MADE_UP_KEY, 2, "2021-08-06"),
        ("azurite-path-style", "GET", "http://127.0.0.1:10000/devstoreaccount1/container/blob.jpg",
         [("x-ms-range", "bytes=0-99")], AZURITE_ACCOUNT, AZURITE_KEY, 0, "2021-08-06"),
        ("azurite-list", "GET", "http://127.0.0.1:10000/devstoreaccount1/container?restype=container&comp=list",
         [], AZURITE_ACCOUNT, AZURITE_KEY, 1, "2021-08-06"),
        ("dfs-style-path", "GET", base + "/container/a/b/c/d.e.f", [("Accept", "application/xml")],
         MADE_UP_ACCOUNT, MADE_UP_KEY, 2, "2021-08-06"),
    ]
    cases = []
    for name, method, url, headers, account, key, di, version in specs:
        date = DATES[di].strftime("%a, %d %b %Y %H:%M:%S GMT")
        sent = list(headers) + [("x-ms-date", date), ("x-ms-version", version)]
        req = HttpRequest(method, url, headers=dict(sent))
        pipeline_request = PipelineRequest(req, PipelineContext(None))
        SharedKeyCredentialPolicy(account, key).on_request(pipeline_request)
        cases.append({
            "name": name, "method": method, "url": url, "headers": [list(h) for h in headers],
            "account": account, "key": key, "date": DATES[di].strftime("%Y%m%dT%H%M%SZ"), "apiVersion": version,
            "expected": {"authorization": req.headers["Authorization"], "xMsDate": date},
        })
    return {"generator": "azure-storage-blob " + azure.storage.blob.__version__, "cases": cases}


def write(name, doc):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote %s (%d cases)" % (os.path.relpath(path, ROOT), len(doc["cases"])))


def main(argv):
    which = set(argv[1:]) or {"sigv4", "sigv4a", "azure"}
    if "sigv4" in which:
        write("botocore-sigv4.json", sigv4_vectors())
    if "sigv4a" in which:
        write("botocore-sigv4a.json", sigv4a_vectors())
    if "azure" in which:
        write("azure-sharedkey.json", azure_vectors())


if __name__ == "__main__":
    main(sys.argv)
