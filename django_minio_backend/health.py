"""The health probe: is the S3 server reachable and does it accept our credentials?"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import certifi
import urllib3
from minio.error import MinioException, S3Error

from .client import build_client, endpoint_url, require_connection_settings
from .errors import ConfigurationError
from .options import StorageOptions


@dataclass
class MinioServerStatus:
    """The result of a health probe. True when the server is available."""

    is_available: bool
    details: str = ""
    status: int | None = None
    data: Any = field(default=None, repr=False)

    def __bool__(self) -> bool:
        return self.is_available

    def __str__(self) -> str:
        return self.details


AUTH_FAILURE_CODES = frozenset(
    {"SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidToken", "ExpiredToken"}
)


def _probe_pool(timeout: float) -> urllib3.PoolManager:
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(total=timeout, connect=timeout, read=timeout),
        retries=False,
        maxsize=1,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
    )


def _unreachable_reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or error
    text = str(reason)
    if isinstance(reason, urllib3.exceptions.NameResolutionError) or "Name or service not known" in text:
        return f"DNS lookup failed: {text}"
    if isinstance(reason, urllib3.exceptions.ConnectTimeoutError | urllib3.exceptions.ReadTimeoutError):
        return f"timed out: {text}"
    if isinstance(reason, urllib3.exceptions.NewConnectionError) and "refused" in text.lower():
        return f"connection refused: {text}"
    return f"unreachable: {text}"


def probe(options: StorageOptions, *, bucket: str = "") -> MinioServerStatus:
    """Ask the server an authenticated question (ListBuckets), bounded by the health timeout."""
    endpoint = endpoint_url(options)
    try:
        require_connection_settings(options)
    except ConfigurationError as error:
        return MinioServerStatus(False, f"{endpoint}: not configured: {error}")
    client = build_client(options, _probe_pool(options.health_check_timeout))
    try:
        client.list_buckets()
    except S3Error as error:
        if error.code in AUTH_FAILURE_CODES:
            return MinioServerStatus(
                False,
                f"{endpoint}: authentication failed ({error.code}): check the access and secret key",
                status=getattr(error.response, "status", None),
            )
        if error.code == "AccessDenied":
            return MinioServerStatus(
                True,
                f"{endpoint}: reachable; credentials accepted but ListBuckets is not allowed",
                status=403,
            )
        return MinioServerStatus(False, f"{endpoint}: S3 error {error.code}: {error.message}")
    except (MinioException, urllib3.exceptions.HTTPError, OSError) as error:
        return MinioServerStatus(False, f"{endpoint}: {_unreachable_reason(error)}")
    return MinioServerStatus(True, f"{endpoint}: available", status=200)
