"""The health probe: is the S3 server reachable and does it accept our credentials?"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import urllib3
from minio.error import MinioException, S3Error

from ..conf.options import StorageOptions
from ..errors import ConfigurationError
from .connection import (
    build_client,
    build_http_client,
    endpoint_url,
    observed_pool,
    require_connection_settings,
)


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


JOIN_SLACK = 0.5  # seconds the caller waits beyond the timeout for the probe's own error

AUTH_FAILURE_CODES = frozenset(
    {"SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidToken", "ExpiredToken"}
)


def _unreachable_reason(error: BaseException, timeout: float | None = None) -> str:
    """Why a request got no HTTP answer: DNS, refused, timed out, or the connection dropped."""
    reason = getattr(error, "reason", None) or error
    text = str(reason)
    exc = urllib3.exceptions
    if isinstance(reason, exc.NameResolutionError | socket.gaierror):
        return f"DNS lookup failed: {text}"
    if isinstance(reason, ConnectionRefusedError) or "refused" in text.lower():
        return f"connection refused: {text}"
    if isinstance(reason, exc.TimeoutError | TimeoutError) or "timed out" in text.lower():
        phase = "connecting" if isinstance(reason, exc.ConnectTimeoutError) else "waiting for an answer"
        limit = f" after {timeout:g} s" if timeout else ""
        return f"timed out{limit} {phase}"
    if isinstance(reason, exc.ProtocolError | ConnectionError):
        return f"connection dropped: {text}"
    return f"not reachable: {text}"


def probe(options: StorageOptions, *, bucket: str = "") -> MinioServerStatus:
    """Is the server up and does it accept our credentials? Bounded by MINIO_HEALTH_CHECK_TIMEOUT.

    The answer comes from an authenticated S3 request (ListBuckets), which MinIO, Ceph RGW and AWS
    all serve. MinIO's ``/minio/health/live`` adds detail where it exists. The probe runs in a
    helper thread so that even a slow DNS lookup cannot hold the caller past the timeout.
    """
    endpoint = endpoint_url(options)
    try:
        require_connection_settings(options)
    except ConfigurationError as error:
        return MinioServerStatus(False, f"{endpoint}: not configured: {error}")
    timeout = options.health_check_timeout
    outcome: list[MinioServerStatus] = []
    worker = threading.Thread(
        target=lambda: outcome.append(_probe(options, endpoint, time.monotonic() + timeout)),
        name="minio-health-probe",
        daemon=True,
    )
    worker.start()
    worker.join(timeout + JOIN_SLACK)
    if outcome:
        return outcome[0]
    return MinioServerStatus(False, f"{endpoint}: timed out: no answer within {timeout:g} s")


def _probe(options: StorageOptions, endpoint: str, deadline: float) -> MinioServerStatus:
    timeout = options.health_check_timeout
    pool = observed_pool(
        options,
        build_http_client(
            options,
            timeout=urllib3.Timeout(total=timeout, connect=timeout, read=timeout),
            retries=False,
            maxsize=1,
        ),
    )
    try:
        client = build_client(options, pool)
        try:
            client.list_buckets()
        except S3Error as error:
            return _s3_error_status(endpoint, error)
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as error:
            reason = _unreachable_reason(error, options.health_check_timeout)
            return MinioServerStatus(False, f"{endpoint}: {reason}")
        live = _minio_live(pool, endpoint, deadline)
        data = {"minio_health_live": live}
        extra = {True: "; MinIO liveness check passed", False: "; MinIO liveness check failed"}.get(live, "")
        return MinioServerStatus(True, f"{endpoint}: available{extra}", status=200, data=data)
    finally:
        pool.clear()


def _s3_error_status(endpoint: str, error: S3Error) -> MinioServerStatus:
    status = getattr(error.response, "status", None)
    if error.code in AUTH_FAILURE_CODES:
        return MinioServerStatus(
            False,
            f"{endpoint}: authentication failed ({error.code}): check the access and secret key",
            status=status,
        )
    if error.code == "AccessDenied":
        # The signature was accepted; the user may simply not be allowed to list buckets.
        return MinioServerStatus(
            True, f"{endpoint}: available; credentials accepted but ListBuckets is denied", status=status
        )
    return MinioServerStatus(False, f"{endpoint}: server error {error.code}: {error.message}", status=status)


def _minio_live(pool: Any, endpoint: str, deadline: float) -> bool | None:
    """True/False from MinIO's liveness page, or None where the server has no such page."""
    remaining = deadline - time.monotonic()
    if remaining <= 0.05:
        return None
    try:
        response = pool.request(
            "GET", f"{endpoint}/minio/health/live", timeout=urllib3.Timeout(total=remaining), retries=False
        )
    except (urllib3.exceptions.HTTPError, OSError):
        return None
    if response.headers.get("Server", "").lower().startswith("minio"):
        return response.status == 200
    return None
