"""What a save uploads, decided once per save: the content as given, or prepared (gzipped when
smaller, its MD5 recorded as metadata), and the headers it carries.

Mixed into MinioBackend, which provides ``options``, ``store``, ``_upload_kwargs``,
``compress_by_default`` and ``records_md5``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..conf.options import StorageOptions
from ..core.headers import object_headers
from ..core.plan import UploadPlan, check_content, content_type, plan_upload
from ..core.store import ObjectStore
from . import compression


class UploadDecisions:
    options: StorageOptions
    store: ObjectStore
    _upload_kwargs: dict[str, Any]
    compress_by_default: bool
    records_md5: bool

    def _check_upload(self, name: str, content: Any) -> None:
        """Refuse a bad name, content or header value before anything is asked of the server."""
        self.store.key(name)
        check_content(content)
        object_headers(self.options, self._upload_kwargs, name, self.extra_upload_headers(name))
        if self._upload_kwargs.get("tags"):
            self.store.require_tagging(name)

    @contextmanager
    def _uploading(self, name: str, content: Any) -> Iterator[Any]:
        """What is uploaded for ``content``: itself, or prepared (gzipped, MD5 recorded) once."""
        if not (self.records_md5 or self._gzips(name)) or isinstance(content, compression.PreparedFile):
            yield content
            return
        prepared = self._prepare(name, content)
        try:
            yield prepared
        finally:
            prepared.close()

    def _plan(self, name: str, upload: Any) -> UploadPlan:
        if isinstance(upload, compression.PreparedFile):
            extra = upload.upload_headers  # computed when prepared, in the thread that saved
        else:
            extra = self.extra_upload_headers(name)
        return plan_upload(self.options, self._upload_kwargs, name, upload, extra)

    def extra_upload_headers(self, name: str) -> dict[str, str]:
        """Headers a subclass adds to the upload of ``name`` (they win over options and arguments)."""
        return {}

    def _gzips(self, name: str) -> bool:
        enabled = self.compress_by_default if self.options.gzip is None else self.options.gzip
        return enabled and compression.compressible(name, self.options.gzip_extensions)

    def _prepare(self, name: str, content: Any) -> compression.PreparedFile:
        """The upload's bytes (gzipped when smaller), its MD5 metadata and extra headers, read once."""
        return compression.prepare(
            name,
            content,
            gzip=self._gzips(name),
            headers=self.extra_upload_headers(name),
            spool_limit=self.options.upload_threshold,
            content_type=content_type(name, content),
        )
