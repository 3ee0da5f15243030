"""The I/O core: one ObjectStore per storage, and the pool and minio clients it is built on.

An ObjectStore owns a storage's parsed options, its HTTP pool and both minio clients (one for
I/O on MINIO_ENDPOINT, one that only signs URLs for MINIO_EXTERNAL_ENDPOINT), the name -> key
mapping, the translation of minio/urllib3 failures into FileNotFoundError and StorageServerError,
and the primitives every other module uses: put (plain or ``If-None-Match: *``), ranged get,
stat, list, delete, copy and presign. Nothing here knows Django's Storage class.

The pool and the clients are built on first use, once, under a lock; an ObjectStore pickles and
deep-copies without them and rebuilds them when next used. Because the region is always known,
signing never asks the server for a bucket's location: building a URL makes no request.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import CopySource
from minio.datatypes import Object, PostPolicy
from minio.deleteobjects import DeleteObject
from minio.error import MinioException, S3Error
from minio.sse import SseCustomerKey

from . import credentials, encryption, writes
from .errors import BucketMissingError, ConfigurationError, StorageServerError
from .files import if_match, pinned
from .names import object_key
from .options import StorageOptions
from .uploads import decode_words

POOL_SIZE = 16
RETRY_STATUSES = (500, 502, 503, 504)  # 503 is also how S3 says SlowDown
MISSING_CODES = frozenset({"NoSuchKey", "NotFound", "ResourceNotFound", "NoSuchObject"})

# (endpoint, bucket) pairs seen to exist in this process: a HEAD 404 has no body to say whether
# the key or the bucket is missing, so the first one per bucket asks the bucket once.
_buckets_seen: set[tuple[str, str]] = set()
_buckets_seen_lock = threading.Lock()

NameTaken = writes.NameTaken


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
    required = [("MINIO_ENDPOINT", options.endpoint)]
    if options.credentials_provider is None:  # else the provider brings the keys
        required += [("MINIO_ACCESS_KEY", options.access_key), ("MINIO_SECRET_KEY", options.secret_key)]
    missing = [key for key, value in required if not value]
    if missing:
        alternative = " (or set MINIO_CREDENTIALS_PROVIDER)" if missing != ["MINIO_ENDPOINT"] else ""
        raise ConfigurationError(
            f"{', '.join(missing)} not set. Add them to this storage's STORAGES[...]['OPTIONS']{alternative}."
        )


def build_client(
    options: StorageOptions, http_client: urllib3.PoolManager, *, external: bool = False
) -> Minio:
    """A minio client for the internal endpoint, or for the external one when ``external``."""
    require_connection_settings(options)
    return Minio(
        endpoint=options.external_endpoint if external else options.endpoint,
        credentials=credentials.provider_for(options),  # asked before every request
        secure=options.external_use_https if external else options.use_https,
        region=options.region,
        http_client=http_client,
    )


def endpoint_url(options: StorageOptions, *, external: bool = False) -> str:
    """``scheme://host[:port]`` of the internal or external endpoint."""
    secure = options.external_use_https if external else options.use_https
    host = options.external_endpoint if external else options.endpoint
    return f"{'https' if secure else 'http'}://{host}"


class ObjectStore:
    """One bucket on one S3 endpoint, as a storage sees it. See the module docstring."""

    _LAZY = ("_http", "_client", "_client_external")

    def __init__(
        self,
        options: StorageOptions,
        bucket: str,
        *,
        http_client: urllib3.PoolManager | None = None,
        alias: str = "default",
        customer_key: SseCustomerKey | None = None,
    ) -> None:
        self.options = options
        self.bucket = bucket
        self.alias = alias
        self._customer_key = customer_key
        self._given_http = http_client
        self._lock = threading.Lock()
        self._http: urllib3.PoolManager | None = None
        self._client: Minio | None = None
        self._client_external: Minio | None = None

    def __repr__(self) -> str:
        return f"<ObjectStore {self.endpoint}/{self.bucket}>"

    # -- pickling and copying: the pool, the clients and the lock are rebuilt on next use --------

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_lock")
        for attr in self._LAZY:
            state[attr] = None
        state["_given_http"] = None  # a pool cannot leave its process; the default one is built
        return state

    def __deepcopy__(self, memo: dict) -> ObjectStore:
        return ObjectStore(
            self.options,
            self.bucket,
            http_client=self._given_http,
            alias=self.alias,
            customer_key=self._customer_key,
        )

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # -- the pool and the clients ---------------------------------------------------------------

    def _build(self) -> None:
        with self._lock:
            if self._client is not None:
                return
            http = self._given_http or default_http_client(self.options)
            client = build_client(self.options, http)
            external = client if self.same_endpoints else build_client(self.options, http, external=True)
            self._http, self._client_external = http, external
            self._client = client  # last: it is what _build's callers test

    @property
    def http(self) -> urllib3.PoolManager:
        if self._client is None:
            self._build()
        return self._http  # type: ignore[return-value]

    @property
    def client(self) -> Minio:
        """The minio client for I/O on MINIO_ENDPOINT."""
        if self._client is None:
            self._build()
        return self._client  # type: ignore[return-value]

    @property
    def client_external(self) -> Minio:
        """The minio client that signs URLs for MINIO_EXTERNAL_ENDPOINT. It makes no requests."""
        if self._client is None:
            self._build()
        return self._client_external  # type: ignore[return-value]

    @property
    def same_endpoints(self) -> bool:
        options = self.options
        return (options.endpoint, options.use_https) == (
            options.external_endpoint,
            options.external_use_https,
        )

    @property
    def endpoint(self) -> str:
        return endpoint_url(self.options)

    @property
    def customer_key(self) -> SseCustomerKey | None:
        """The SSE-C key every write, read, stat and copy must carry (None without SSE-C)."""
        return self._customer_key or encryption.customer_key(self.options)

    # -- names and errors ------------------------------------------------------------------------

    def key(self, name: str) -> str:
        """The S3 key of the storage name ``name`` (under MINIO_LOCATION)."""
        return object_key(self.options.location, name)

    @contextmanager
    def errors(self, action: str, name: str = "") -> Iterator[None]:
        """Turn minio and urllib3 failures into FileNotFoundError or StorageServerError."""
        where = f"{self.bucket}/{name}" if name else self.bucket
        try:
            yield
        except S3Error as error:
            raise self.translate(error, action, name) from error
        except (MinioException, urllib3.exceptions.HTTPError) as error:
            reason = getattr(error, "reason", None) or error
            raise StorageServerError(f"{action} {where} on {self.endpoint} failed: {reason}") from error
        except OSError as error:
            if isinstance(error, FileNotFoundError | StorageServerError | PermissionError):
                raise
            raise StorageServerError(f"{action} {where} on {self.endpoint} failed: {error}") from error

    def translate(self, error: S3Error, action: str, name: str = "") -> OSError:
        where = f"{self.bucket}/{name}" if name else self.bucket
        if error.code == "NoSuchBucket":
            return self.bucket_missing(f"{action} {name or 'it'}")
        if error.code in MISSING_CODES:
            return FileNotFoundError(f"{where} does not exist on {self.endpoint}.")
        return StorageServerError(
            f"{action} {where} on {self.endpoint} failed: {error.code}: {error.message}"
        )

    # -- reading ---------------------------------------------------------------------------------

    def stat(self, name: str) -> Object:
        """The object's metadata (one HEAD), user metadata decoded. FileNotFoundError when missing."""
        try:
            with self.errors("stat", name):
                stat = self.client.stat_object(
                    bucket_name=self.bucket, object_name=self.key(name), ssec=self.customer_key
                )
        except FileNotFoundError:
            self.require_bucket(f"stat {name}")
            raise
        self._bucket_seen()
        if stat.size == 0 and stat.metadata.get(writes.CLAIM_HEADER) is not None:
            raise self._claimed(name)
        for header, value in list(stat.metadata.items()):
            if header.lower().startswith("x-amz-meta-"):
                stat.metadata[header] = decode_words(value)
        return stat

    def bucket_missing(self, action: str) -> BucketMissingError:
        return BucketMissingError(
            f"Bucket {self.bucket!r} does not exist on {self.endpoint} ({action}). "
            "Create it with `python manage.py initialize_buckets`, or set MINIO_BUCKET_CHECK_ON_SAVE."
        )

    def require_bucket(self, action: str) -> None:
        """Raise BucketMissingError if the bucket is missing; asks the server once per bucket."""
        if (self.endpoint, self.bucket) in _buckets_seen:
            return
        with self.errors("check bucket of"):
            exists = self.client.bucket_exists(bucket_name=self.bucket)
        if not exists:
            raise self.bucket_missing(action)
        self._bucket_seen()

    def _bucket_seen(self) -> None:
        if (self.endpoint, self.bucket) in _buckets_seen:
            return
        with _buckets_seen_lock:
            _buckets_seen.add((self.endpoint, self.bucket))

    def _claimed(self, name: str) -> FileNotFoundError:
        return FileNotFoundError(
            f"{self.bucket}/{name} does not exist yet on {self.endpoint}: a save claimed the name and "
            "its upload has not finished (or failed; clean_orphaned_minio_files removes stale claims)."
        )

    def get(self, name: str, *, offset: int = 0, etag: str | None = None) -> Any:
        """A streaming GET of ``name`` from ``offset``; with ``etag``, only of that version (If-Match)."""
        with self.errors("read", name), pinned(f"{self.bucket}/{name}", etag):
            response = self.client.get_object(
                bucket_name=self.bucket,
                object_name=self.key(name),
                offset=offset,
                request_headers=if_match(etag),
                ssec=self.customer_key,
            )
        if (
            response.headers.get(writes.CLAIM_HEADER) is not None
            and response.headers.get("Content-Length") == "0"
        ):
            response.close()
            response.release_conn()
            raise self._claimed(name)
        return response

    def list(self, prefix: str, *, recursive: bool = False) -> Iterator[Object]:
        """Objects (and, unless ``recursive``, directories) under the key ``prefix``."""
        listing = self.client.list_objects(
            bucket_name=self.bucket, prefix=prefix or None, recursive=recursive
        )
        with self.errors("list", prefix):
            yield from listing

    # -- writing ---------------------------------------------------------------------------------

    def put(self, name: str, plan: Any, *, new: bool = False) -> str:
        """Store ``plan`` (see uploads.plan_upload) under ``name``; return the ETag.

        With ``new``, the name must not exist: the write is conditional (``If-None-Match: *``) and
        raises NameTaken when it does. Exactly ``plan.length`` bytes are sent.
        """
        with self.errors("upload", name):
            return writes.put(self, self.key(name), plan, new=new)

    def conditional_puts(self) -> bool:
        """Whether new names are written with If-None-Match: MINIO_CONDITIONAL_WRITES when set,
        else whether the endpoint honours it (learned once per endpoint per process)."""
        setting = self.options.conditional_writes
        if setting is not None:
            return setting
        with self.errors("probe conditional writes on"):
            return writes.honours_if_none_match(self, "put")

    def pending_uploads(self, prefix: str) -> Iterator[tuple[str, str, datetime | None]]:
        """(key, upload id, initiated) of the incomplete multipart uploads under the key ``prefix``."""
        with self.errors("list incomplete uploads in", prefix):
            yield from writes.pending_uploads(self, prefix)

    def abort_upload(self, key: str, upload_id: str) -> None:
        with self.errors("abort the incomplete upload of", key):
            writes.abort(self, key, upload_id)

    def is_claim(self, key: str) -> bool:
        """Whether ``key`` holds an empty claim (or probe) object left by a new-name save."""
        with self.errors("stat", key):
            return writes.is_claim(self, key)

    def delete(self, name: str) -> None:
        with self.errors("delete", name):
            self.client.remove_object(bucket_name=self.bucket, object_name=self.key(name))

    def delete_many(self, names: Iterable[str]) -> None:
        """Delete ``names`` with bulk requests (minio sends 1,000 keys per request).

        Raises StorageServerError naming how many, and the first, it could not delete.
        """
        keys = [self.key(name) for name in names]
        with self.errors("bulk delete in"):
            failed = list(
                self.client.remove_objects(
                    bucket_name=self.bucket, delete_object_list=[DeleteObject(name=key) for key in keys]
                )
            )
        if failed:
            first = failed[0]
            raise StorageServerError(
                f"Could not delete {len(failed)} of {len(keys)} objects in {self.bucket} on {self.endpoint}; "
                f"first {first.name}: {first.code}: {first.message}"
            )

    def copy(self, source: str, target: str) -> None:
        """Server-side copy of ``source`` to ``target`` (names in this bucket)."""
        ssec = self.customer_key
        with self.errors("copy", source):
            self.client.copy_object(
                bucket_name=self.bucket,
                object_name=self.key(target),
                source=CopySource(bucket_name=self.bucket, object_name=self.key(source), ssec=ssec),
                sse=ssec or encryption.for_writes(self.options),
            )

    # -- URLs (no request) -----------------------------------------------------------------------

    def presigned_get(
        self,
        key: str,
        *,
        expires: timedelta,
        response_headers: Mapping[str, str] | None = None,
        version_id: str | None = None,
    ) -> str:
        return self.client_external.presigned_get_object(
            bucket_name=self.bucket,
            object_name=key,
            expires=expires,
            response_headers=dict(response_headers) if response_headers else None,
            version_id=version_id,
        )

    def presigned_put(self, key: str, *, expires: timedelta) -> str:
        return self.client_external.presigned_put_object(
            bucket_name=self.bucket, object_name=key, expires=expires
        )

    def presigned_post(self, policy: PostPolicy) -> dict[str, str]:
        return self.client_external.presigned_post_policy(policy=policy)

    def public_url(self, key: str) -> str:
        """The unsigned URL of ``key``: under MINIO_PUBLIC_BASE_URL, else the external endpoint."""
        quoted = quote(key, safe="/~")
        if self.options.public_base_url:
            return f"{self.options.public_base_url}/{quoted}"
        return f"{endpoint_url(self.options, external=True)}/{self.bucket}/{quoted}"
