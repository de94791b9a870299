"""The raw baseline for scripts/bench-sync: boto3 lists the prefix (the time until every key is
known), then ranged GETs (bytes=0-65535, as a worker's first probe round) of every listed
object that is not a sidecar, 64 at a time. With --only-new FILE, GETs only the keys not listed
in FILE (the keys the previous run saw): an incremental pass.

Usage: bench_sync_baseline.py ENDPOINT KEY SECRET BUCKET PREFIX [--save FILE] [--only-new FILE]
Prints one JSON object: {"listed", "list_seconds", "fetched", "fetch_seconds", "total_seconds"}.
"""
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

endpoint, kid, secret, bucket, prefix = sys.argv[1:6]
args = sys.argv[6:]
save = args[args.index("--save") + 1] if "--save" in args else None
only_new = args[args.index("--only-new") + 1] if "--only-new" in args else None
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=kid, aws_secret_access_key=secret,
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, max_pool_connections=64))
t0 = time.time()
keys = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
    keys += [o["Key"] for o in page.get("Contents", [])]
t_list = time.time()
media = [k for k in keys if not k.endswith(".metadata.json") and not k.endswith(".bin")]
if only_new:
    seen = set(open(only_new).read().split("\n"))
    media = [k for k in media if k not in seen]
if save:
    open(save, "w").write("\n".join(keys))


def get(k):
    s3.get_object(Bucket=bucket, Key=k, Range="bytes=0-65535")["Body"].read()


with ThreadPoolExecutor(64) as pool:
    list(pool.map(get, media))
t_end = time.time()
print(json.dumps({"listed": len(keys), "list_seconds": round(t_list - t0, 2), "fetched": len(media),
                  "fetch_seconds": round(t_end - t_list, 2), "total_seconds": round(t_end - t0, 2)}))
