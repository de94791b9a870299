"""Fills and changes a moto bucket for the folder-sync tests and bench (signed with the key the
moto fixture made). Objects cycle through real media samples so probes succeed; every tenth has
a JSON sidecar (KEY.metadata.json) and every 97th has an extension Registrar does not register.

Usage:
  sync_fixture.py fill ENDPOINT KEY SECRET BUCKET PREFIX FIRST COUNT SAMPLE...   (objects FIRST..FIRST+COUNT-1)
  sync_fixture.py delete ENDPOINT KEY SECRET BUCKET PREFIX FIRST COUNT SAMPLE...   (the samples name the keys)
  sync_fixture.py overwrite ENDPOINT KEY SECRET BUCKET PREFIX FIRST COUNT SAMPLE...  (same keys, other bytes)
  sync_fixture.py put ENDPOINT KEY SECRET BUCKET KEY FILE
Prints one JSON object: {"keys": [...]} (the media keys touched, sidecars and ignored keys excluded).
"""
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

cmd, endpoint, kid, secret, bucket = sys.argv[1:6]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=kid, aws_secret_access_key=secret,
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, max_pool_connections=16))


def name(prefix, i, sample):
    ext = os.path.splitext(sample)[1]
    if i % 97 == 96:
        ext = ".bin"
    return f"{prefix}obj-{i:07d}{ext}"


def run(tasks):
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda t: t(), tasks))


if cmd == "put":
    key, path = sys.argv[6], sys.argv[7]
    with open(path, "rb") as f:
        s3.put_object(Bucket=bucket, Key=key, Body=f.read())
    print(json.dumps({"keys": [key]}))
    sys.exit(0)

prefix, first, count = sys.argv[6], int(sys.argv[7]), int(sys.argv[8])
samples = [open(p, "rb").read() for p in sys.argv[9:]]
names = sys.argv[9:]
touched, tasks = [], []
for i in range(first, first + count):
    k = name(prefix, i, names[i % len(names)] if names else ".x")
    if not k.endswith(".bin"):
        touched.append(k)
    if cmd == "fill" or cmd == "overwrite":
        body = samples[i % len(samples)]
        if cmd == "overwrite":
            body = body + b"\n" * 16   # trailing newlines: the media still parses, the ETag changes
        tasks.append(lambda k=k, body=body: s3.put_object(Bucket=bucket, Key=k, Body=body))
        if i % 10 == 0 and cmd == "fill":
            meta = json.dumps({"n": i, "source": "sidecar"}).encode()
            tasks.append(lambda k=k, meta=meta: s3.put_object(Bucket=bucket, Key=k + ".metadata.json", Body=meta))
    elif cmd == "delete":
        tasks.append(lambda k=k: s3.delete_object(Bucket=bucket, Key=k))
        if i % 10 == 0:
            tasks.append(lambda k=k: s3.delete_object(Bucket=bucket, Key=k + ".metadata.json"))
run(tasks)
print(json.dumps({"keys": touched}))
