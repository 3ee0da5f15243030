"""Set a bucket's CORS rule with PutBucketCors: the XML rule of docs/direct-uploads.md, for one origin."""

from __future__ import annotations

import base64
import hashlib
import re

from django_minio_backend.core import request

from . import ROOT

DOC = ROOT / "docs" / "direct-uploads.md"
EXAMPLE_ORIGIN = "https://www.example.com"


def documented_rule(origin: str) -> bytes:
    """The first XML block of docs/direct-uploads.md, with the documented origin replaced."""
    block = re.search(r"```xml\n(.*?)```", DOC.read_text(), re.S)
    assert block and EXAMPLE_ORIGIN in block.group(1), f"no CORS rule for {EXAMPLE_ORIGIN} in {DOC}"
    return block.group(1).replace(EXAMPLE_ORIGIN, origin).encode()


def put_bucket_cors(storage, origin: str) -> None:
    """PutBucketCors of the documented rule on ``storage``'s bucket (a signed request of our own:
    minio-py has no CORS call)."""
    body = documented_rule(origin)
    md5 = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()
    conn, bucket = storage.store.connection, storage.store.bucket
    response = request.request(
        conn, "PUT", bucket, "", headers={"Content-MD5": md5, "Content-Type": "application/xml"},
        body=body, length=len(body), query={"cors": ""},
    )  # fmt: skip
    request.check(response, bucket, "")
