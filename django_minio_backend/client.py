"""Building minio clients and the HTTP connection pool they share.

A storage has two clients: one for I/O on MINIO_ENDPOINT, and one that only signs URLs for
MINIO_EXTERNAL_ENDPOINT. Because the region is always known, signing never asks the server for
a bucket's location: building a URL makes no request.
"""

from __future__ import annotations

import os

import certifi
import urllib3
from minio import Minio

from .errors import ConfigurationError
from .options import StorageOptions

POOL_SIZE = 16
RETRY_STATUSES = (500, 502, 503, 504)  # 503 is also how S3 says SlowDown


def build_http_client(
    options: StorageOptions,
    *,
    timeout: urllib3.Timeout | None = None,
    retries: bool = True,
    maxsize: int = POOL_SIZE,
) -> urllib3.PoolManager:
    """The default pool: bounded timeouts, retries on 5xx/SlowDown, certifi's CA bundle.

    ``timeout`` and ``retries=False`` give the short, single-try pools of the health probe and
    the start-up check.
    """
    policy: urllib3.Retry | bool = False
    if retries:
        policy = urllib3.Retry(
            total=options.max_retries,
            connect=options.max_retries,
            read=0,  # a response cut midway must surface, not be silently re-read
            status=options.max_retries,
            backoff_factor=0.2,
            status_forcelist=RETRY_STATUSES,
            raise_on_status=False,  # hand the final error response to minio, which names the S3 code
            respect_retry_after_header=True,
        )
    return urllib3.PoolManager(
        timeout=timeout or urllib3.Timeout(connect=options.connect_timeout, read=options.read_timeout),
        maxsize=maxsize,
        retries=policy,
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
    )


def default_http_client(options: StorageOptions) -> urllib3.PoolManager:
    """MINIO_HTTP_CLIENT when the user gave one, else a new default pool."""
    return options.http_client or build_http_client(options)


def require_connection_settings(options: StorageOptions) -> None:
    missing = [
        key
        for key, value in (
            ("MINIO_ENDPOINT", options.endpoint),
            ("MINIO_ACCESS_KEY", options.access_key),
            ("MINIO_SECRET_KEY", options.secret_key),
        )
        if not value
    ]
    if missing:
        raise ConfigurationError(
            f"{', '.join(missing)} not set. Add them to this storage's STORAGES[...]['OPTIONS']."
        )


def build_client(
    options: StorageOptions, http_client: urllib3.PoolManager, *, external: bool = False
) -> Minio:
    """A minio client for the internal endpoint, or for the external one when ``external``."""
    require_connection_settings(options)
    return Minio(
        endpoint=options.external_endpoint if external else options.endpoint,
        access_key=options.access_key,
        secret_key=options.secret_key,
        secure=options.external_use_https if external else options.use_https,
        region=options.region,
        http_client=http_client,
    )


def endpoint_url(options: StorageOptions, *, external: bool = False) -> str:
    """``scheme://host[:port]`` of the internal or external endpoint."""
    secure = options.external_use_https if external else options.use_https
    host = options.external_endpoint if external else options.endpoint
    return f"{'https' if secure else 'http'}://{host}"
