"""Signed requests made by the official SDKs, for the end-to-end tests.

Reads one JSON job on stdin, prints one JSON answer on stdout. Nothing here
signs by itself: every signature comes from the SDK's own signer.

Job fields:
  sdk        "bos" (bce-python-sdk) or "boto3"
  mode       "presign"  -> {"url": ...}
             "headers"  -> {"url": ..., "headers": {...}}  (signed headers, sent by the caller)
             "get"      -> {"status": ..., "length": ..., "md5": ...}  (the SDK sends the request)
  endpoint   "http://127.0.0.1:PORT"
  bucket, key
  params     extra query parameters (e.g. {"x-bce-process": "style/thumb"})
  access_key, secret_key
  expires    validity in seconds (default 1800)
  method     "headers" mode, BOS only: the method to sign (default GET)
  sign_headers  "headers" mode, BOS only: further headers to send and sign
             (e.g. {"x-bce-process": "system/load,...|image/..."})
  timestamp  signing time as Unix seconds (default: now); for boto3 the
             SDK's clock (botocore.auth.get_current_datetime) is set to it
"""

import hashlib
import json
import sys
import urllib.parse


def bos(job):
    from baidubce import utils
    from baidubce.auth import bce_v1_signer
    from baidubce.auth.bce_credentials import BceCredentials
    from baidubce.bce_client_configuration import BceClientConfiguration
    from baidubce.services.bos.bos_client import BosClient

    credentials = BceCredentials(job["access_key"], job["secret_key"])
    client = BosClient(BceClientConfiguration(credentials=credentials, endpoint=job["endpoint"]))
    params = job.get("params", {})
    expires = job.get("expires", 1800)
    timestamp = job.get("timestamp", 0)
    if job["mode"] == "presign":
        url = client.generate_pre_signed_url(
            job["bucket"], job["key"], timestamp=timestamp,
            expiration_in_seconds=expires, params=params)
        return {"url": url.decode()}
    if job["mode"] == "headers":
        host = urllib.parse.urlsplit(job["endpoint"]).netloc
        path = utils.append_uri(b"/", job["bucket"].encode(), job["key"].encode())
        date = utils.get_canonical_time(timestamp)
        headers = {b"host": host.encode(), b"x-bce-date": date}
        extra = {k.encode(): v.encode() for k, v in job.get("sign_headers", {}).items()}
        headers.update(extra)
        byte_params = {k.encode(): v.encode() for k, v in params.items()}
        method = job.get("method", "GET").encode()
        auth = bce_v1_signer.sign(credentials, method, path, headers, byte_params,
                                  timestamp, expires, {b"host", b"x-bce-date"} | set(extra))
        query = utils.get_canonical_querystring(byte_params, False).decode()
        url = job["endpoint"] + path.decode() + ("?" + query if query else "")
        sent = {"authorization": auth.decode(), "x-bce-date": date.decode()}
        sent.update({k.decode(): v.decode() for k, v in extra.items()})
        return {"url": url, "headers": sent}
    if job["mode"] == "get":
        response = client.get_object_as_string(job["bucket"], job["key"])
        return {"status": 200, "length": len(response),
                "md5": hashlib.md5(response).hexdigest()}
    raise ValueError("unknown mode " + job["mode"])


def boto(job):
    import boto3
    import botocore.auth
    import botocore.awsrequest
    import botocore.config
    import botocore.credentials

    credentials = botocore.credentials.Credentials(job["access_key"], job["secret_key"])
    if job.get("timestamp"):
        import datetime
        at = datetime.datetime.fromtimestamp(job["timestamp"], datetime.timezone.utc)
        botocore.auth.get_current_datetime = lambda *_, **__: at.replace(tzinfo=None)
    params = job.get("params", {})
    expires = job.get("expires", 1800)
    path = "/" + urllib.parse.quote(job["bucket"]) + "/" + urllib.parse.quote(job["key"])
    url = job["endpoint"] + path
    if params:
        url += "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
    if job["mode"] == "presign":
        request = botocore.awsrequest.AWSRequest(method="GET", url=url)
        botocore.auth.S3SigV4QueryAuth(credentials, "s3", "us-east-1", expires=expires).add_auth(request)
        return {"url": request.url}
    if job["mode"] == "headers":
        request = botocore.awsrequest.AWSRequest(method="GET", url=url)
        botocore.auth.S3SigV4Auth(credentials, "s3", "us-east-1").add_auth(request)
        return {"url": request.url, "headers": {k.lower(): v for k, v in request.headers.items()}}
    if job["mode"] == "get":
        client = boto3.client(
            "s3", endpoint_url=job["endpoint"], region_name="us-east-1",
            aws_access_key_id=job["access_key"], aws_secret_access_key=job["secret_key"],
            config=botocore.config.Config(signature_version="s3v4",
                                          s3={"addressing_style": "path"}))
        body = client.get_object(Bucket=job["bucket"], Key=job["key"])["Body"].read()
        return {"status": 200, "length": len(body), "md5": hashlib.md5(body).hexdigest()}
    raise ValueError("unknown mode " + job["mode"])


def main():
    job = json.load(sys.stdin)
    answer = bos(job) if job["sdk"] == "bos" else boto(job)
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
