"""ObjectStore: one bucket on one S3 endpoint, the door every request of the package goes through.

It maps storage names to keys (under MINIO_LOCATION), sends every request through the one error
translator (``translate.translated``), and offers the primitives the rest of the package uses:
stat, ranged and pinned get, list, put (plain, conditional or multipart), delete, copy, header
rewrites, incomplete-upload listing and presigned URLs. Nothing here knows Django's Storage class.
Its connection (pool and clients) is built on first use; see ``connection.py``.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import urllib3
from minio import Minio
from minio.commonconfig import CopySource
from minio.datatypes import Object, PostPolicy
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from minio.sse import SseCustomerKey

from ..conf.options import StorageOptions
from ..errors import StorageServerError, UnsupportedByServerError
from ..names import is_reserved, object_key, reserved_key
from . import capabilities, copy, encryption, multipart, server_side
from .conditional import (
    CLAIM_HEADER,
    CLAIM_SIZES,
    NameTaken,
    is_claim,
    listed_is_claim,
    stat_is_claim,
    stored_etag,
)
from .connection import Connection, plain_url
from .headers import decode_words
from .plan import UploadPlan
from .put import put_single
from .state import STATE
from .translate import bucket_missing, translated

__all__ = ["NameTaken", "ObjectStore"]


class ObjectStore:
    """One bucket on one S3 endpoint, as a storage sees it. See the module docstring."""

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
        self.connection = Connection(options, http_client=http_client, customer_key=customer_key)
        self.endpoint = self.connection.endpoint  # ``scheme://host[:port]`` of MINIO_ENDPOINT

    def __repr__(self) -> str:
        return f"<ObjectStore {self.endpoint}/{self.bucket}>"

    def for_bucket(self, bucket: str) -> ObjectStore:
        """The same endpoint, pool and clients, another bucket."""
        other = object.__new__(ObjectStore)
        other.__dict__.update(self.__dict__, bucket=bucket)
        return other

    @property
    def client(self) -> Minio:
        """The minio client for I/O on MINIO_ENDPOINT."""
        return self.connection.client

    @property
    def client_external(self) -> Minio:
        """The minio client that signs URLs for MINIO_EXTERNAL_ENDPOINT. It makes no requests."""
        return self.connection.client_external

    @property
    def same_endpoints(self) -> bool:
        return self.connection.same_endpoints

    @property
    def customer_key(self) -> SseCustomerKey | None:
        return self.connection.customer_key

    # -- names and errors ------------------------------------------------------------------------

    def key(self, name: str) -> str:
        """The S3 key of the storage name ``name`` (under MINIO_LOCATION)."""
        return object_key(self.options.location, name)

    def errors(
        self, action: str, name: str = "", *, pinned_etag: str | None = None
    ) -> AbstractContextManager[None]:
        """Turn minio and urllib3 failures into FileNotFoundError or StorageServerError (translate.py)."""
        return translated(action, self.bucket, name, self.endpoint, pinned_etag=pinned_etag)

    # -- reading ---------------------------------------------------------------------------------

    def stat(self, name: str) -> Object:
        """The object's metadata (one HEAD), user metadata decoded. FileNotFoundError when missing."""
        try:
            stat = self.stat_key(self.key(name), name=name)
        except FileNotFoundError:
            self.require_bucket(f"stat {name}")
            raise
        if stat_is_claim(stat):
            raise self._claimed(name)
        for header, value in list(stat.metadata.items()):
            if header.lower().startswith("x-amz-meta-"):
                stat.metadata[header] = decode_words(value)
        return stat

    def stat_key(self, key: str, *, name: str = "") -> Object:
        """One HEAD of the raw ``key``, as stored (FileNotFoundError when missing)."""
        with self.errors("stat", name or key):
            stat = self.client.stat_object(bucket_name=self.bucket, object_name=key, ssec=self.customer_key)
        STATE.mark_bucket_seen(self.endpoint, self.bucket)
        return stat

    def require_bucket(self, action: str) -> None:
        """Raise BucketMissingError if the bucket is missing; asks the server once per bucket."""
        if STATE.bucket_seen(self.endpoint, self.bucket):
            return
        if not self.bucket_exists():
            raise bucket_missing(self.bucket, self.endpoint, action)

    def bucket_exists(self) -> bool:
        with self.errors("check bucket of"):
            exists = self.client.bucket_exists(bucket_name=self.bucket)
        if exists:
            STATE.mark_bucket_seen(self.endpoint, self.bucket)
        return exists

    def _claimed(self, name: str) -> FileNotFoundError:
        return FileNotFoundError(
            f"{self.bucket}/{name} does not exist yet on {self.endpoint}: a save claimed the name and "
            "its upload has not finished (or failed; clean_orphaned_minio_files removes stale claims)."
        )

    def get(self, name: str, *, offset: int = 0, length: int = 0, etag: str | None = None) -> Any:
        """A streaming GET of ``name`` from ``offset`` (``length`` bytes, 0: to the end); with
        ``etag``, only of that version (If-Match)."""
        with self.errors("read", name, pinned_etag=etag):
            response = self.client.get_object(
                bucket_name=self.bucket,
                object_name=self.key(name),
                offset=offset,
                length=length,
                request_headers={"If-Match": etag} if etag else None,
                ssec=self.customer_key,
            )
        length = response.headers.get("Content-Length") or ""
        if response.headers.get(CLAIM_HEADER) is not None and length.isdigit() and int(length) in CLAIM_SIZES:
            response.close()
            response.release_conn()
            raise self._claimed(name)
        return response

    def list(
        self, prefix: str, *, recursive: bool = False, include_user_meta: bool = False
    ) -> Iterator[Object]:
        """Objects (and, unless ``recursive``, directories) under the key ``prefix``: everything
        stored, claims and probe objects included (``files()`` is what a storage shows)."""
        listing = self.client.list_objects(
            bucket_name=self.bucket,
            prefix=prefix or None,
            recursive=recursive,
            include_user_meta=include_user_meta,
        )
        with self.errors("list", prefix):
            yield from listing

    def files(self, prefix: str, *, recursive: bool = False) -> Iterator[Object]:
        """``list()`` without the package's own objects: claims of saves in progress, and probe
        objects a credential without delete permission could not remove."""
        for item in self.list(prefix, recursive=recursive):
            if item.is_dir or not (listed_is_claim(item) or is_reserved(item.object_name)):
                yield item

    # -- writing ---------------------------------------------------------------------------------

    def put(self, name: str, plan: UploadPlan, *, new: bool = False) -> str:
        """Store ``plan`` (see plan.plan_upload) under ``name``; return the ETag.

        With ``new``, the name must not exist: the write is conditional (``If-None-Match: *``) and
        raises NameTaken when it does. Exactly ``plan.length`` bytes are sent. A new multipart
        upload first checks the name (one HEAD, so a big upload is not sent to a taken name), then
        relies on If-None-Match on CompleteMultipartUpload where honoured, else claims the name first.
        A 501 answer becomes UnsupportedByServerError naming the setting that asked for it."""
        key = self.key(name)
        if plan.progress is not None:
            plan.progress.set_meta(object_name=key, total_length=plan.length)
        with self.errors("upload", name):
            self._require_encryption(name, plan)
            if plan.tagged:
                self.require_tagging(name)
            try:
                return self._put(name, key, plan, new=new)
            except S3Error as error:
                if error.code != "NotImplemented":
                    raise
                raise self._unimplemented(name, tagged=plan.tagged, new=new) from error

    def _put(self, name: str, key: str, plan: UploadPlan, *, new: bool) -> str:
        """One upload, by the cheapest safe path: see put()."""
        if plan.single:
            return put_single(self.connection, self.bucket, key, plan, new=new)
        if not new:
            return multipart.put_multipart(self.connection, self.bucket, key, plan)
        claimed = functools.partial(multipart.put_claimed, self.connection, self.bucket, key, plan)
        if self.capability(f"if-none-match-{capabilities.COMPLETE}") is None and plan.start is not None:
            learn = functools.partial(capabilities.learned_in_band, self.endpoint, capabilities.COMPLETE)
            return claimed(learn=learn)  # the first such upload learns the answer itself: no probe upload
        if self.honours_if_none_match(capabilities.COMPLETE, for_name=name):
            if stored_etag(self.connection, self.bucket, key) is not None:
                raise NameTaken(key)
            return multipart.put_multipart(self.connection, self.bucket, key, plan, new=True)
        return claimed()

    def _require_encryption(self, name: str, plan: UploadPlan) -> None:
        """Refuse, before anything is stored, a write whose encryption the server does not confirm."""
        mode = plan.encryption
        if mode is not None and not self.confirms_encryption(plan.headers):
            raise UnsupportedByServerError(
                f"Cannot save {self.bucket}/{name} with {mode}: {self.endpoint} does not confirm {mode} "
                "writes (a test write's answer lacked the encryption headers), so it would store the file "
                "unencrypted. Nothing was stored. Use a server that applies it, or remove "
                "MINIO_SERVER_SIDE_ENCRYPTION (or the sse/headers argument)."
            )

    def require_tagging(self, name: str) -> None:
        """Refuse, before any request, tags on a server known (stated or learned) to lack tagging."""
        if self.capability(capabilities.TAGGING) is False:
            raise self._unimplemented(name, tagged=True, new=False)

    def _unimplemented(self, name: str, *, tagged: bool, new: bool) -> UnsupportedByServerError:
        """The error for a 501 to an upload (see capabilities.unsupported_upload); a 501 to a tagged
        write that was not conditional teaches "no tagging"."""
        stated = self.options.server_capabilities.get(f"if-none-match-{capabilities.PUT}")
        conditional = new and True in (self.options.conditional_writes, stated)  # stated, not learned
        if tagged and not conditional:
            STATE.remember(self.endpoint, capabilities.TAGGING, False)
        return capabilities.unsupported_upload(
            self.endpoint, f"{self.bucket}/{name}", tagged=tagged, conditional=conditional
        )

    def confirms_encryption(self, headers: Mapping[str, str]) -> bool:
        """Whether writes with these SSE headers are confirmed: stated, or learned by a probe write."""
        mode = encryption.mode_of(headers)
        if mode is None:
            return True
        known = self.capability(capabilities.encryption(mode))
        if known is not None:
            return known
        probe = {**encryption.encryption_headers(headers), "Content-Type": "application/octet-stream"}
        with self.errors(f"probe {mode} on"):
            return capabilities.confirms_encryption(
                self.connection, self.bucket, mode, probe, self._probe_key
            )

    def versioning(self) -> str | None:
        """The bucket's versioning status ("Enabled", "Suspended", "Off"), None where not implemented."""
        with self.errors("read the versioning of"):
            try:
                status = self.client.get_bucket_versioning(bucket_name=self.bucket).status
            except S3Error as error:
                if error.code == "NotImplemented":
                    return None
                raise
        return status or "Off"

    def honours_if_none_match(self, on: str = capabilities.PUT, *, for_name: str = "") -> bool:
        """Whether the endpoint refuses a conditional PUT (or Complete) over an existing key.

        Learned once per endpoint and process; a failure to learn it is reported as a failure to
        save ``for_name``.
        """
        stated = self.options.server_capabilities.get(f"if-none-match-{on}")
        if stated is not None:
            return stated
        action = "save" if for_name else "probe conditional writes on"
        with self.errors(action, for_name):
            return capabilities.honours_if_none_match(self.connection, self.bucket, on, self._probe_key)

    def conditional_puts(self, for_name: str = "") -> bool:
        """Whether new names are written with If-None-Match: MINIO_CONDITIONAL_WRITES when set,
        else whether the endpoint honours it (learned once per endpoint per process)."""
        setting = self.options.conditional_writes
        return (
            setting
            if setting is not None
            else self.honours_if_none_match(capabilities.PUT, for_name=for_name)
        )

    def capability(self, name: str) -> bool | None:
        """What is known of capability ``name`` (see capabilities.py): stated in
        MINIO_SERVER_CAPABILITIES, or learned by this process; None when unknown."""
        stated = self.options.server_capabilities.get(name)
        return stated if stated is not None else STATE.capability(self.endpoint, name)

    def learn_presigned_post(self) -> bool:
        """Whether the endpoint accepts presigned POST uploads (a probe the first time: 2 requests)."""
        return self._learn(capabilities.PRESIGNED_POST, "presigned POST", capabilities.accepts_presigned_post)

    def learn_tagging(self) -> bool:
        """Whether the endpoint stores object tags (a probe the first time: 2 requests)."""
        return self._learn(capabilities.TAGGING, "object tagging", capabilities.accepts_tagging)

    def _learn(self, name: str, what: str, probe: Callable[..., bool]) -> bool:
        known = self.capability(name)
        if known is not None:
            return known
        with self.errors(f"probe {what} on"):
            return probe(self.connection, self.bucket, self._probe_key)

    def _probe_key(self) -> str:
        return reserved_key(self.options.location, f"probe-{uuid.uuid4().hex}")

    def pending_uploads(self, prefix: str) -> Iterator[tuple[str, str, datetime | None]]:
        """(key, upload id, initiated) of the incomplete multipart uploads under the key ``prefix``."""
        with self.errors("list incomplete uploads in", prefix):
            yield from multipart.pending_uploads(self.connection, self.bucket, prefix)

    def abort_upload(self, key: str, upload_id: str) -> None:
        with self.errors("abort the incomplete upload of", key):
            multipart.abort(self.connection, self.bucket, key, upload_id)

    def is_claim(self, key: str) -> bool:
        """Whether ``key`` holds an empty claim (or probe) object left by a new-name save."""
        with self.errors("stat", key):
            return is_claim(self.connection, self.bucket, key)

    def delete(self, name: str) -> None:
        with self.errors("delete", name):
            self.client.remove_object(bucket_name=self.bucket, object_name=self.key(name))

    def delete_keys(self, keys: Iterable[str]) -> list[str]:
        """Delete ``keys`` with bulk requests (1,000 keys per request); what failed, one line each."""
        with self.errors("bulk delete in"):
            failed = self.client.remove_objects(
                bucket_name=self.bucket, delete_object_list=[DeleteObject(name=key) for key in keys]
            )
            return [f"{error.name}: {error.code}: {error.message}" for error in failed]

    def delete_many(self, names: Iterable[str]) -> None:
        """Delete ``names`` in bulk; StorageServerError naming how many, and the first, that failed."""
        keys = [self.key(name) for name in names]
        failed = self.delete_keys(keys)
        if failed:
            raise StorageServerError(
                f"Could not delete {len(failed)} of {len(keys)} objects in {self.bucket} on {self.endpoint}; "
                f"first {failed[0]}"
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

    def server_copy(
        self, source: str, target: str, *, into: ObjectStore | None = None, headers: Any = None, **limits: int
    ) -> None:
        """Copy ``source`` to ``target`` (in ``into``'s bucket, default this one) on the server; see
        server_side.py. ``headers`` replace the source's; ``limits``: single_limit, part_size."""
        into = into or self
        with self.errors("copy", source):
            stat = self.stat_key(self.key(source), name=source)
            if stat_is_claim(stat):
                raise self._claimed(source)
            server_side.copy_object(
                self.connection, source_bucket=self.bucket, source_key=self.key(source),
                target_bucket=into.bucket, target_key=into.key(target), stat=stat, headers=headers,
                ssec=self.customer_key, sse=encryption.for_writes(into.options), **limits,
            )  # fmt: skip

    def delete_under(self, prefix_key: str, on_key: Any = None) -> tuple[int, list[str]]:
        """Delete every object under the key ``prefix_key`` while listing it (1,000 keys a request)."""
        with self.errors("delete the objects under", prefix_key):
            keys = (item.object_name for item in self.list(prefix_key, recursive=True) if not item.is_dir)
            return server_side.delete_listed(self.connection, self.bucket, keys, on_key)

    def rewrite_headers(self, key: str, headers: dict[str, str], *, etag: str, size: int) -> bool:
        """Replace the headers of ``key`` by a copy onto itself while its ETag is ``etag`` (copy.py).

        False when the object changed or was deleted meanwhile.
        """
        with self.errors("rewrite the headers of", key):
            return copy.rewrite_headers(self.connection, self.bucket, key, headers, etag=etag, size=size)

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

    def post_policy(self, expiration: datetime) -> PostPolicy:
        """A blank POST policy for this bucket (direct browser uploads fill in its conditions)."""
        return PostPolicy(bucket_name=self.bucket, expiration=expiration)

    def presigned_post(self, policy: PostPolicy) -> dict[str, str]:
        return self.client_external.presigned_post_policy(policy=policy)

    def bucket_url(self) -> str:
        """The external URL of the bucket (where browsers send direct uploads)."""
        return plain_url(self.options, self.bucket)

    def public_url(self, key: str) -> str:
        """The unsigned URL of ``key``: under MINIO_PUBLIC_BASE_URL, else the external endpoint."""
        quoted = quote(key, safe="/~")
        if self.options.public_base_url:
            return f"{self.options.public_base_url}/{quoted}"
        return plain_url(self.options, self.bucket, quoted)
