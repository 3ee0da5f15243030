"""The stat cache (MINIO_STAT_CACHE), on Django's cache framework: what a HEAD learned, kept.

Thumbnail libraries and templates ask ``exists()``, ``size()`` and ``get_modified_time()`` of the
same objects on every page, and an ``ImageField`` without width/height fields opens the image
to read its dimensions each time they are shown. With the stat cache on, the first answer is kept
in ``CACHES[MINIO_STAT_CACHE_ALIAS]`` and later ones make no request: one entry per object, under
a key made of the endpoint, the bucket and the key (not the alias, so every storage of a bucket
shares it), holding whether it exists, its size, modification time and ETag; an image's dimensions,
once asked, have an entry of their own (so asking them costs one GET, not a HEAD too). A
missing object is cached too (thumbnailers ask for thumbnails not yet made).

This package's own save, delete, copy, rename and ``delete_prefix`` drop the entries they touch;
with a shared cache (Redis, memcached) that reaches every process. A write by another program
(a direct upload, ``mc``, another application) is seen when the entry expires, after at most
MINIO_STAT_CACHE_TIMEOUT seconds. A cache that fails is logged and bypassed, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from django.core.cache import caches

from ..core.store import ObjectStore

logger = logging.getLogger("django_minio_backend")
PREFIX = "minio_stat_"
MISSING = {"exists": False}
DIMENSIONS = "_dimensions"


def cache_key(store: ObjectStore, key: str) -> str:
    identity = [store.endpoint, store.bucket, key]
    return PREFIX + hashlib.sha256(json.dumps(identity).encode("utf-8")).hexdigest()


def entry(store: ObjectStore, name: str, stat: Callable[[], Any]) -> dict[str, Any]:
    """What is known of ``name``: from the cache, else from ``stat()`` (one HEAD), then cached."""
    if not store.options.stat_cache:
        return _summary(stat)
    key = cache_key(store, store.key(name))
    cached = _call(store, "read", lambda: _cache(store).get(key))
    if isinstance(cached, dict) and "exists" in cached:
        return cached
    found = _summary(stat)
    _write(store, key, found)
    return found


def _summary(stat: Callable[[], Any]) -> dict[str, Any]:
    try:
        found = stat()
    except FileNotFoundError:
        return dict(MISSING)
    return {"exists": True, "size": found.size, "modified": found.last_modified, "etag": found.etag}


def require(found: dict[str, Any], store: ObjectStore, name: str) -> dict[str, Any]:
    """``found``, or FileNotFoundError when it says the object is missing."""
    if not found["exists"]:
        raise FileNotFoundError(f"{store.bucket}/{name} does not exist on {store.endpoint}.")
    return found


def dimensions(store: ObjectStore, name: str, measure: Callable[[], Any]) -> Any:
    """The image's (width, height): cached (an entry of its own), else ``measure()`` (one GET)."""
    if not store.options.stat_cache:
        return measure()
    key = cache_key(store, store.key(name)) + DIMENSIONS
    cached = _call(store, "read", lambda: _cache(store).get(key))
    if isinstance(cached, tuple | list) and len(cached) == 2:
        return tuple(cached)
    size = tuple(measure())
    _write(store, key, size)
    return size


def forget(store: ObjectStore, name: str) -> None:
    """Drop the entry of the storage name ``name`` (after this package wrote or deleted it)."""
    if store.options.stat_cache:
        forget_key(store, store.key(name))


def forget_key(store: ObjectStore, key: str) -> None:
    if store.options.stat_cache:
        entry_key = cache_key(store, key)
        _call(store, "invalidate", lambda: _cache(store).delete_many([entry_key, entry_key + DIMENSIONS]))


def _write(store: ObjectStore, key: str, value: Any) -> None:
    timeout = store.options.stat_cache_timeout
    _call(store, "write", lambda: _cache(store).set(key, value, timeout))


def _cache(store: ObjectStore) -> Any:
    return caches[store.options.stat_cache_alias]


def _call(store: ObjectStore, action: str, call: Callable[[], Any]) -> Any:
    """A cache operation; a failing cache is logged as a warning and the request is made instead."""
    try:
        return call()
    except Exception as error:  # cache backends raise their own client's exception types
        logger.warning(
            "Stat cache %r could not %s an entry for storage %r (%s: %s); asking the server instead.",
            store.options.stat_cache_alias, action, store.alias, type(error).__name__, error,
        )  # fmt: skip
        return None
