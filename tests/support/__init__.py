"""Helpers shared by the test suite; fixtures stay in the conftest files.

The bigger harnesses are modules of this package: ``faultproxy`` (a TCP proxy that injects
faults), ``cluster`` (the Ceph cluster behind HAProxy), ``nginx_balancer``, ``demo_process``,
``browser`` and ``processes`` (throw-away programs and what they leave behind).
"""

from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import urllib3
from django.core.cache import caches
from django.core.checks import run_checks
from django.core.files.base import ContentFile

from django_minio_backend.errors import StorageServerError
from django_minio_backend.models import MinioBackend
from django_minio_backend.storage import urlcache

ROOT = Path(__file__).resolve().parents[2]
PRIVATE, PUBLIC, STATIC = "test-private", "test-public", "test-static"  # declared by tests/settings.py
MEDIA = "django_minio_backend.models.MinioBackend"
STATIC_MEDIA = "django_minio_backend.models.MinioBackendStatic"
MULTI = "django_minio_backend.models.MinioMultiBucketStorage"
BASE = {
    "MINIO_ENDPOINT": "s3.local:9000",
    "MINIO_ACCESS_KEY": "a",
    "MINIO_SECRET_KEY": "s",
}  # never contacted
MiB = 1024 * 1024
MULTIPART = {  # multipart from 5 MiB on, in 5 MiB parts (the S3 minimum)
    "MINIO_MULTIPART_UPLOAD": True,
    "MINIO_MULTIPART_THRESHOLD": 5 * MiB,
    "MINIO_MULTIPART_PART_SIZE": 5 * MiB,
}
SSE_C_KEY = bytes(range(32))  # an SSE-C customer key: 32 raw bytes
COMPOSE_NODES = ("minio1", "minio2", "minio3", "minio4")  # the MinIO services of docker-compose.yml
RANDOM_PART = re.compile(r"_[A-Za-z0-9]{7}(?=\.|$)")


# -- objects ---------------------------------------------------------------------------------------


def stored(storage, name: str) -> bytes:
    """The content of ``name``, read through the storage."""
    with storage.open(name) as handle:
        return handle.read()


def put(server, bucket: str, key: str, data: bytes = b"x") -> None:
    """Store an object with a plain minio client, behind the storage's back."""
    server.client().put_object(bucket_name=bucket, object_name=key, data=io.BytesIO(data), length=len(data))


def keys(server, bucket: str) -> list[str]:
    """Every key in ``bucket``, sorted, listed with a plain minio client."""
    listing = server.client().list_objects(bucket_name=bucket, recursive=True)
    return sorted(obj.object_name for obj in listing)


def headers_of(server, key: str, bucket: str = PRIVATE, ssec=None) -> dict[str, str]:
    """The object's response headers (names lower-cased), asked with a plain minio client."""
    stat = server.client().stat_object(bucket_name=bucket, object_name=key, ssec=ssec)
    return {k.lower(): v for k, v in stat.metadata.items()}


def pending_uploads(server, prefix: str, bucket: str = PRIVATE) -> list[str]:
    """The keys of the multipart uploads in progress under ``prefix``, from the server's own
    listing as boto3 (an implementation independent of ours) asks for it."""
    listing = boto3_client(server).list_multipart_uploads(Bucket=bucket, Prefix=prefix)
    return [upload["Key"] for upload in listing.get("Uploads", [])]


def boto3_client(server, service: str = "s3"):
    """A boto3 client for the server: a second, independent S3 implementation to check against."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=server.url,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name=server.region,
    )


def shape(name: str) -> tuple[str, str]:
    """(directory, file name without the random part) of a free name Django generated.

    Django 5 puts the random part before all extensions (``g_XXXXXXX.tar.gz``), Django 4.2 before
    the last one (``g.tar_XXXXXXX.gz``); both storages use the same Django, so either shape works.
    """
    path = PurePosixPath(name)
    return str(path.parent), RANDOM_PART.sub("", path.name, count=1)


class NonSeekableStream:
    """Only read(): no seek, tell, size or name, like a socket or a pipe.

    It gives at most ``chunk`` bytes a read; after ``repeat(total)`` it gives the first bytes of
    ``data`` again and again until ``total`` bytes were read, without holding ``total`` bytes.
    """

    def __init__(self, data: bytes, chunk: int = 65536):
        self._data, self._pos, self._chunk = data, 0, chunk
        self._total: int | None = None

    def read(self, size=-1):
        size = self._chunk if size is None or size < 0 else min(size, self._chunk)
        if self._total is not None:
            size = min(size, self._total - self._pos)
            self._pos += size
            return self._data[:size]
        out = self._data[self._pos : self._pos + size]
        self._pos += len(out)
        return out

    def repeat(self, total: int) -> NonSeekableStream:
        self._total = total
        return self


# -- storages ------------------------------------------------------------------------------------


def through(proxy, bucket: str = PRIVATE, **options) -> MinioBackend:
    """A storage of the "default" alias that talks to the server through ``proxy`` (a FaultProxy)."""
    return MinioBackend(bucket_name=bucket, storage_name="default", MINIO_ENDPOINT=proxy.endpoint, **options)


def offline_storage(counter: CountingPoolManager, **options) -> MinioBackend:
    """A storage of tests/settings.py's "default" alias, on a closed port, counting its requests."""
    return MinioBackend(storage_name="default", MINIO_HTTP_CLIENT=counter, **options)


def url_cache_entry(storage: MinioBackend, name: str):
    """What the URL cache holds for ``name`` (None when nothing)."""
    return caches[storage.options.url_cache_alias].get(
        urlcache.cache_key(storage.store, storage.store.key(name))
    )


def cache_config(kind: str, redis_port: int | None = None) -> dict:
    """A Django CACHES entry: ``locmem``, or ``redis`` on 127.0.0.1:``redis_port``."""
    if kind == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "url-cache-tests"}
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{redis_port}",
    }


def two_alias_settings(settings) -> None:
    """STORAGES with two MinIO media aliases ("default", "archive") and a static one."""
    settings.STORAGES = {
        "default": {
            "BACKEND": MEDIA,
            "OPTIONS": {**BASE, "MINIO_PUBLIC_BUCKETS": ["shared-public"], "MINIO_REGION": "eu-west-1"},
        },
        "archive": {
            "BACKEND": MEDIA,
            "OPTIONS": {"MINIO_ENDPOINT": "archive.local", "MINIO_ACCESS_KEY": "b", "MINIO_SECRET_KEY": "t"},
        },
        "staticfiles": {
            "BACKEND": STATIC_MEDIA,
            "OPTIONS": {**BASE, "MINIO_STATIC_FILES_BUCKET": "site-static"},
        },
    }


# A models.py whose fields hold storages three ways; .format(options=...) fills in the options.
STORAGE_MODELS = """
from django.db import models
from django_minio_backend.models import MinioBackend, MinioBackendStatic

OPTIONS = {options!r}

class Document(models.Model):
    by_alias = models.FileField(storage=MinioBackend(bucket_name="test-private", storage_name="default"))
    by_kwargs = models.FileField(storage=MinioBackend(bucket_name="test-private", **OPTIONS))
    static = models.FileField(storage=MinioBackendStatic(**OPTIONS))

    class Meta:
        app_label = "leakcheck"
"""


def check_messages(settings, options: dict) -> dict:
    """The package's system check messages by id, for a "default" alias with ``options``."""
    settings.STORAGES = {"default": {"BACKEND": MEDIA, "OPTIONS": options}}
    return {message.id: message for message in run_checks() if message.id.startswith("minio_backend.")}


def shown_by_a_failed_save(storage: MinioBackend, caplog: pytest.LogCaptureFixture, *more: str) -> str:
    """All a save that reaches no server lets anyone see: reprs, deconstruct(), the error, the log.

    Set ``caplog``'s level before building ``storage``, so the log of its construction counts too.
    """
    with pytest.raises(StorageServerError) as raised:
        storage.save("x.txt", ContentFile(b"x"))
    seen = [repr(storage), repr(storage.options), repr(storage.deconstruct()), *more]
    return " ".join([*seen, str(raised.value), caplog.text])


def assert_probe_failed(status, reason: str, endpoint: str) -> None:
    """A failed health probe: falsy, and its details name the reason and the endpoint."""
    assert not status and status.is_available is False
    assert reason in status.details
    assert endpoint in status.details
    assert "available" not in status.details.lower()


# -- requests ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One request as the storage sent it; header names lower-cased."""

    method: str
    path: str
    query: str
    headers: dict[str, str]

    @property
    def line(self) -> str:
        """'METHOD query', e.g. 'POST uploads='."""
        return f"{self.method} {self.query}".strip()


class CountingPoolManager(urllib3.PoolManager):
    """Records every request a storage makes; pass it as MINIO_HTTP_CLIENT.

    ``requests`` holds (method, path) pairs, ``sent`` the whole requests (:class:`Sent`), and
    ``peak_active`` the most requests in flight at once.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("timeout", urllib3.Timeout(connect=5, read=60))
        kwargs.setdefault("maxsize", 16)  # as the default pool: parallel uploads reuse connections
        super().__init__(**kwargs)
        self.requests: list[tuple[str, str]] = []
        self.sent: list[Sent] = []
        self._lock = threading.Lock()
        self.active = 0
        self.peak_active = 0

    def urlopen(self, method, url, redirect=True, **kwargs):
        parts = urlsplit(url)
        headers = {str(k).lower(): str(v) for k, v in (kwargs.get("headers") or {}).items()}
        with self._lock:
            self.requests.append((method, parts.path))
            self.sent.append(Sent(method, parts.path, parts.query, headers))
            self.active += 1
            self.peak_active = max(self.peak_active, self.active)
        try:
            return super().urlopen(method, url, redirect=redirect, **kwargs)
        finally:
            with self._lock:
                self.active -= 1

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.sent.clear()
            self.peak_active = 0

    def methods(self) -> list[str]:
        return [method for method, _ in self.requests]

    def only_under(self, prefix: str) -> None:
        """Forget the requests for keys outside ``prefix/`` (e.g. the endpoint's conditional-write probe)."""
        with self._lock:
            self.requests = [(m, path) for m, path in self.requests if f"/{prefix}/" in path]
            self.sent = [sent for sent in self.sent if f"/{prefix}/" in sent.path]

    def lines(self, header: str | None = None) -> list[str]:
        """'METHOD query' of every request, or of those that carried ``header``."""
        return [sent.line for sent in self.sent if header is None or header in sent.headers]


def refused(response, content: bytes | None = None) -> bool:
    """The server refused the request: a 4xx answer (403 on RGW, 400 or 412 for an anonymous request
    on Swift) that does not carry ``content``. Tests assert this behaviour, not one server's code."""
    return 400 <= response.status < 500 and (content is None or content not in response.data)


RECORDED_EVENTS: list = []


def recorded_event(event) -> None:
    """A MINIO_REQUEST_HOOK given by dotted path in tests: keeps the events it is called with."""
    RECORDED_EVENTS.append(event)
