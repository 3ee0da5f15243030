"""The presigned URL cache, on Django's cache framework.

Signing a URL is local work (HMAC over the request), so the cache never asks S3 anything: a hit
and a miss both make zero requests to the S3 server. Only the plain ``url(name)`` call is cached;
calls with their own ``expires`` or ``response_headers`` are signed fresh each time. Public URLs
are never cached, because building one costs less than a cache lookup.

An entry holds the URL and the moment it stops being handed out, and is stored with a timeout no
longer than the URL's own expiry, so a cached URL is never served after it has expired.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.core.cache import caches

from ..core import credentials
from ..core.connection import endpoint_url
from ..core.store import ObjectStore

logger = logging.getLogger("django_minio_backend")


def cache_key(store: ObjectStore, key: str) -> str:
    """The cache key for the URL of S3 key ``key``: the prefix, then a hash of what shapes the URL.

    The alias, the external endpoint, the bucket and the key identify the object; the access key
    and region are part of the signature, so rotating credentials starts fresh entries. The hash
    keeps every key short (memcached allows 250 characters) and free of spaces.
    """
    options = store.options
    identity = [
        store.alias,
        endpoint_url(options, external=True),
        store.bucket,
        key,
        credentials.current(options).access_key,
        options.region,
        options.addressing_style,  # path or virtual host: another URL for the same object
    ]
    digest = hashlib.sha256(json.dumps(identity).encode("utf-8")).hexdigest()
    return f"{options.url_cache_prefix}{digest}"


def cached_url(store: ObjectStore, key: str, sign: Callable[[], str]) -> str:
    """The cached URL for ``key``, or a freshly signed one that is then cached."""
    # A URL signed with temporary credentials dies with them: never cache it for longer.
    timeout = min(
        store.options.effective_url_cache_timeout, _seconds_left(credentials.current(store.options))
    )
    if timeout <= 0:
        return sign()
    entry_key = cache_key(store, key)
    cache = caches[store.options.url_cache_alias]
    entry = _cache_call(store, "read", lambda: cache.get(entry_key))
    if _is_fresh(entry):
        return entry[1]
    url = sign()
    until = time.time() + timeout
    _cache_call(store, "write", lambda: cache.set(entry_key, (until, url), timeout))
    return url


def _seconds_left(creds: Any) -> int:
    """Seconds until minio ``Credentials`` expire (their expiry is naive UTC)."""
    if creds.expiration is None:
        return 2**31
    return int((creds.expiration - datetime.now(UTC).replace(tzinfo=None)).total_seconds())


def forget(store: ObjectStore, name: str) -> None:
    """Drop the cached URL of the storage name ``name`` (after save() or delete() of it)."""
    if not store.options.url_caching_enabled:
        return
    cache = caches[store.options.url_cache_alias]
    entry_key = cache_key(store, store.key(name))
    _cache_call(store, "invalidate", lambda: cache.delete(entry_key))


def _is_fresh(entry: Any) -> bool:
    return (
        isinstance(entry, tuple)
        and len(entry) == 2
        and isinstance(entry[1], str)
        and isinstance(entry[0], int | float)
        and time.time() < entry[0]
    )


def _cache_call(store: ObjectStore, action: str, call: Callable[[], Any]) -> Any:
    """Run a cache operation; if the cache itself fails, log it and carry on without the cache.

    A URL signed without the cache is still correct, so an unreachable cache server slows url()
    down but does not break pages. The failure is logged as a warning every time.
    """
    try:
        return call()
    except Exception as error:  # cache backends raise their own client's exception types
        logger.warning(
            "URL cache %r could not %s an entry for storage %r (%s: %s); signing without the cache.",
            store.options.url_cache_alias,
            action,
            store.alias,
            type(error).__name__,
            error,
        )
        return None
