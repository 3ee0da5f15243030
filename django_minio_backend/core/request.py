"""One signed S3 request of our own, sent with the connection's retry policy.

minio's ``put_object`` cannot carry ``If-None-Match`` (it turns unknown headers into user
metadata), reads each part into memory, and cannot check that a stream holds exactly its
declared size; so writes are requests this package signs itself, with minio's public pieces:
``minio.helpers.BaseURL`` builds the URL (path or virtual-host style, key encoding, query),
``minio.signer.sign_v4_s3`` signs the headers (unsigned payload, so the body streams), and
``minio.error.S3Error.fromxml`` parses error answers. The request goes out on the connection's
urllib3 pool.

``send()`` retries a 5xx/SlowDown answer or a dropped connection (up to MINIO_MAX_RETRIES) from a
fresh body, and says how many attempts it took, so that a conditional write can tell a 412 to
its own earlier attempt from a name taken by someone else.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import urllib3
from minio.error import S3Error
from minio.signer import sign_v4_s3
from minio.time import to_amz_date, utcnow

from ..errors import UploadSizeError
from . import credentials, events
from .connection import Connection

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


class SourceError(Exception):
    """Reading the content to upload failed (not the network): not retried."""


def request(
    conn: Connection,
    method: str,
    bucket: str,
    key: str,
    *,
    headers: dict[str, str],
    body: Any,
    length: int,
    query: dict[str, str] | None = None,
) -> urllib3.BaseHTTPResponse:
    """One signed request for ``key`` in ``bucket`` ("" addresses the bucket itself); no retry."""
    options = conn.options
    url = conn.base_url.build(
        method=method, region=options.region, bucket_name=bucket, object_name=key or None, query_params=query
    )
    date = utcnow()
    # If-None-Match is sent unsigned (SigV4 allows unsigned standard headers): a gateway that
    # drops it then makes an ordinary PUT, which the capability probe detects, instead of a
    # signature error.
    condition = {k: headers[k] for k in headers if k.lower() == "if-none-match"}
    headers = {
        **{k: v for k, v in headers.items() if k not in condition},
        "Host": url.netloc,
        "Content-Length": str(length),
        "x-amz-content-sha256": UNSIGNED_PAYLOAD,
        "x-amz-date": to_amz_date(date),
    }
    creds = credentials.current(options)  # asked per request: a refreshing provider stays current
    if creds.session_token:
        headers["X-Amz-Security-Token"] = creds.session_token
    signed = sign_v4_s3(
        method=method,
        url=url,
        region=options.region,
        headers=headers,
        credentials=creds,
        content_sha256=UNSIGNED_PAYLOAD,
        date=date,
    )
    signed.update(condition)
    return conn.http.urlopen(
        method, url.geturl(), body=body, headers=signed, retries=False, redirect=False, preload_content=True
    )


def send(
    conn: Connection, method: str, bucket: str, key: str, *, body: Callable[[], Any], **kwargs: Any
) -> tuple[urllib3.BaseHTTPResponse, int]:
    """Send with the connection's retry policy, from a fresh ``body()`` each time. (response, attempts)."""
    policy = conn.retry
    for attempt in range(1, policy.attempts + 1):
        try:
            with events.attempt(attempt):
                response = request(conn, method, bucket, key, body=body(), **kwargs)
        except (UploadSizeError, SourceError):
            raise
        except (urllib3.exceptions.HTTPError, OSError):
            if attempt == policy.attempts:
                raise
        else:
            if response.status not in policy.statuses or attempt == policy.attempts:
                return response, attempt
        time.sleep(policy.delay(attempt))
    raise AssertionError("unreachable")


def empty(conn: Connection, method: str, bucket: str, key: str, **kwargs: Any) -> urllib3.BaseHTTPResponse:
    """``send`` of a request without a body; the response."""
    response, _ = send(conn, method, bucket, key, body=lambda: b"", length=0, **kwargs)
    return response


def s3_error(response: urllib3.BaseHTTPResponse, bucket: str, key: str) -> S3Error:
    """The S3 error an answer carries, parsed by minio; a synthetic one for bodiless answers."""
    if response.data:
        try:
            return S3Error.fromxml(response)
        except ET.ParseError:
            pass
    return S3Error(
        code=f"HTTP{response.status}",
        message=response.reason or "",
        resource=f"/{bucket}/{key}",
        request_id=response.headers.get("x-amz-request-id", ""),
        host_id=response.headers.get("x-amz-id-2", ""),
        response=response,
        bucket_name=bucket,
        object_name=key,
    )


def check(response: urllib3.BaseHTTPResponse, bucket: str, key: str) -> None:
    """Raise the S3Error of a failed answer (3xx and above)."""
    if response.status >= 300:
        raise s3_error(response, bucket, key)


def check_completed(response: urllib3.BaseHTTPResponse, bucket: str, key: str) -> None:
    """``check``, and also raise for a 200 whose body is an error: S3 can fail that way after it
    started answering a CompleteMultipartUpload or a copy."""
    check(response, bucket, key)
    if response.data and ET.fromstring(response.data).tag.rsplit("}", 1)[-1] == "Error":
        raise s3_error(response, bucket, key)


def etag_of(response: urllib3.BaseHTTPResponse) -> str:
    return (response.headers.get("ETag") or "").strip('"').lower()
