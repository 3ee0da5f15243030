"""MinioBackendStatic: static files in the public MINIO_STATIC_FILES_BUCKET.

Uploads store the content's MD5 as metadata and gzip text files (MINIO_GZIP, on by default).
Inside ``collecting()`` (this app's collectstatic command opens it) the storage answers from one
bucket listing, replaces changed files with one PUT each and uploads in parallel; see
``session.py``. Outside it, it behaves like MinioBackend.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from ..errors import BucketMissingError
from ..names import clean_name, directory_prefix, name_from_key
from ..storage.backend import MinioBackend
from ..storage.compression import PreparedFile
from .session import CollectSession, Entry, SessionHolder, StaticStore, stored_md5_from_stat


class MinioBackendStatic(MinioBackend):
    """Static files: always the public MINIO_STATIC_FILES_BUCKET of the "staticfiles" alias."""

    minio_role = "static"
    default_alias = "staticfiles"
    compress_by_default = True
    records_md5 = True

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("bucket_name", None)
        super().__init__(**kwargs)
        self._sessions = SessionHolder()

    @property
    def bucket(self) -> str:
        return self.options.static_bucket

    @property
    def is_bucket_public(self) -> bool:
        return True

    @property
    def PUBLIC_BUCKETS(self) -> list[str]:
        return [*self.options.public_buckets, self.options.static_bucket]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_sessions", None)  # an open collectstatic context stays in its process
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._sessions = SessionHolder()

    # -- the collectstatic context -----------------------------------------------------------------

    def collecting(self) -> AbstractContextManager[CollectSession]:
        """The collectstatic context: one listing, held deletes, parallel uploads (session.py).

        ``with staticfiles_storage.collecting(): call_command("collectstatic", ...)`` in a deploy
        script; this app's collectstatic command opens it by itself. Re-entrant.
        """
        return self._sessions.collecting(self._new_session)

    @property
    def collect_session(self) -> CollectSession | None:
        """The open collectstatic session, or None outside the context."""
        return self._sessions.session

    def _new_session(self) -> CollectSession:
        headers = self._upload_kwargs.get("headers") or {}
        sse = (
            self._upload_kwargs.get("sse") is not None
            or self.options.server_side_encryption is not None
            or any(key.lower().startswith("x-amz-server-side-encryption") for key in headers)
        )
        return CollectSession(
            StaticStore(
                list_entries=self._list_entries,
                stored_md5=self._stored_md5,
                delete_many=self.delete_many,
                gzips=self._gzips,
                etags_are_md5=not sse,
                workers=self.options.static_upload_workers,
            )
        )

    def _list_entries(self) -> Iterator[tuple[str, Entry]]:
        location = self.options.location
        try:
            listing = self.store.files(directory_prefix(location, ""), recursive=True)
            items = [(item.object_name, item.size, item.etag, item.last_modified) for item in listing]
        except BucketMissingError:  # no bucket yet: nothing is stored
            return
        for key, size, etag, modified in items:
            yield name_from_key(location, key), Entry(size or 0, (etag or "").strip('"'), modified)

    def _stored_md5(self, name: str) -> tuple[str | None, bool]:
        try:
            return stored_md5_from_stat(self.stat(name).metadata)
        except FileNotFoundError:
            return None, False

    # -- the Storage API: the session's answers inside the context --------------------------------

    def exists(self, name: str) -> bool:
        session = self.collect_session
        return super().exists(name) if session is None else session.exists(clean_name(name))

    def size(self, name: str) -> int:
        session = self.collect_session
        return super().size(name) if session is None else session.entry(clean_name(name)).size

    def get_modified_time(self, name: str) -> datetime:
        session = self.collect_session
        if session is None:
            return super().get_modified_time(name)
        return self._django_time(session.modified_time(clean_name(name)))

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        session = self.collect_session
        return super().listdir(path) if session is None else session.listdir(clean_name(path))

    def delete(self, name: str) -> None:
        session = self.collect_session
        if session is None:
            return super().delete(name)
        self._refuse_if_read_only("delete", name)
        session.delete(clean_name(name))

    def _open(self, name: str, mode: str = "rb") -> Any:
        session = self.collect_session
        if session is not None:
            session.flush()  # a queued upload of this name must land before it is read
        return super()._open(name, mode)

    def _replace(self, name: str, content: Any) -> str:
        """Inside the context: queue one replacing PUT on the session's workers (prepared now)."""
        session = self.collect_session
        if session is None:
            return super()._replace(name, content)
        name = clean_name(name)
        prepared = content if isinstance(content, PreparedFile) else None
        session.save(
            name,
            lambda: prepared or self._prepare(name, content),
            lambda upload: self._put(name, upload, new=False),
        )
        return name

    def _writes_new_names(self, name: str = "") -> bool:
        return self.collect_session is None and super()._writes_new_names(name)
