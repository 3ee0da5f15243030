"""AWS Signature Version 4 for the few requests minio-py cannot send for us.

The conditional PUT needs an ``If-None-Match`` header that minio's put_object cannot carry.
Signing it in headers (not as a presigned URL) keeps the access key and signature out of the
URL, so out of urllib3's log lines and exception messages.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _canonical_query(query: str) -> str:
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return "&".join(f"{quote(key, safe='-_.~')}={quote(value, safe='-_.~')}" for key, value in pairs)


def signed_headers(
    method: str,
    url: str,
    headers: Mapping[str, str],
    *,
    access_key: str,
    secret_key: str,
    region: str,
    now: datetime | None = None,
) -> dict[str, str]:
    """``headers`` plus the date, payload and Authorization headers that sign the request.

    ``url``'s path must already be URI-encoded as it will be sent. The body is not hashed
    (UNSIGNED-PAYLOAD), so it can stream.
    """
    parts = urlsplit(url)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    signed = {key.lower(): " ".join(str(value).split()) for key, value in headers.items()}
    signed.pop("content-length", None)
    signed |= {"host": parts.netloc, "x-amz-date": stamp, "x-amz-content-sha256": UNSIGNED_PAYLOAD}
    names = sorted(signed)
    canonical_request = "\n".join(
        [
            method,
            parts.path or "/",
            _canonical_query(parts.query),
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            UNSIGNED_PAYLOAD,
        ]
    )
    scope = f"{stamp[:8]}/{region}/s3/aws4_request"
    string_to_sign = "\n".join(
        [ALGORITHM, stamp, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = ("AWS4" + secret_key).encode()
    for part in (stamp[:8], region, "s3", "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    authorization = (
        f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return {
        **headers,
        "x-amz-date": stamp,
        "x-amz-content-sha256": UNSIGNED_PAYLOAD,
        "Authorization": authorization,
    }
