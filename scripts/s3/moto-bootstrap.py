"""Bootstrap a moto server started with INITIAL_NO_AUTH_ACTION_COUNT=3: spend exactly those
three unauthenticated calls on an IAM user, its access key and an allow-all policy, then
print the key as JSON ({"access_key": ..., "secret_key": ...}) for the tests. moto cannot be
given fixed keys; after these calls it verifies every request's SigV4 signature.

Usage: python moto-bootstrap.py http://127.0.0.1:PORT
"""

import json
import sys

import boto3

endpoint = sys.argv[1]
iam = boto3.client(
    "iam",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="bootstrap",
    aws_secret_access_key="bootstrap",
)
iam.create_user(UserName="ci")
key = iam.create_access_key(UserName="ci")["AccessKey"]
iam.put_user_policy(
    UserName="ci",
    PolicyName="all",
    PolicyDocument=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        }
    ),
)
print(json.dumps({"access_key": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}))
