"""Prepares a moto server (started with INITIAL_NO_AUTH_ACTION_COUNT=3, so from the fourth request
on every request must be signed by a known IAM key) for the integration tests:

  1-3 (unauthenticated): an IAM user with an allow-all policy and an access key for it;
  then, signed with that key: a private bucket holding the given files, a role that may be
  assumed with an external id and may read S3, and a SigV4 presigned URL for the first file.

Usage: moto_fixture.py ENDPOINT BUCKET FILE... ; prints one JSON object on stdout.
"""
import json
import os
import sys

import boto3
from botocore.config import Config

endpoint, bucket, files = sys.argv[1], sys.argv[2], sys.argv[3:]
region = "us-east-1"
allow_all = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def client(service, key="unauthenticated", secret="unauthenticated", **kw):
    return boto3.client(service, endpoint_url=endpoint, region_name=region, aws_access_key_id=key,
                        aws_secret_access_key=secret, **kw)


iam = client("iam")
iam.create_user(UserName="registrar")
iam.put_user_policy(UserName="registrar", PolicyName="all", PolicyDocument=allow_all)
key = iam.create_access_key(UserName="registrar")["AccessKey"]
kid, secret = key["AccessKeyId"], key["SecretAccessKey"]

s3 = client("s3", kid, secret, config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
s3.create_bucket(Bucket=bucket)
for path in files:
    with open(path, "rb") as f:
        s3.put_object(Bucket=bucket, Key="media/" + os.path.basename(path), Body=f.read())

iam2 = client("iam", kid, secret)
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                                                  "Condition": {"StringEquals": {"sts:ExternalId": "registrar-ext"}}}]}
role = iam2.create_role(RoleName="registrar-reader", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
iam2.put_role_policy(RoleName="registrar-reader", PolicyName="read", PolicyDocument=allow_all)

presigned = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "media/" + os.path.basename(files[0])},
                                      ExpiresIn=3600)
print(json.dumps({"access_key_id": kid, "secret_access_key": secret, "role_arn": role["Arn"], "presigned_url": presigned}))
