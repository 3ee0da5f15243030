"""The capability report: what each configured server can do, learned on request.

``manage.py is_minio_available --capabilities`` prints it and ``manage.py check --deploy`` turns
it into warnings and errors (``ops/server_checks.py``). Learning writes and deletes a few
throwaway objects with reserved names in the alias's bucket (see ``core/capabilities.py``); what
is learned is remembered for the process, so the storages then ask nothing again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..conf.aliases import Alias
from ..core import buckets, capabilities, encryption
from ..core.store import ObjectStore
from ..errors import StorageServerError

LABELS = {
    "if-none-match-put": "conditional PUT (If-None-Match: race-free new names)",
    "if-none-match-complete": "conditional CompleteMultipartUpload",
    "bucket-policies": "bucket policies (public buckets)",
    "presigned-post": "presigned POST (browser form uploads)",
    "tagging": "object tagging",
    "versioning": "bucket versioning",
}


@dataclass(frozen=True)
class Finding:
    """One capability of one alias's server: supported (True/False), or None with why not known."""

    name: str
    supported: bool | None
    detail: str = ""

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.name.replace("encryption:", "confirmed server-side encryption "))

    def __str__(self) -> str:
        answer = {True: "yes", False: "no", None: "unknown"}[self.supported]
        return f"{self.label}: {answer}" + (f" ({self.detail})" if self.detail else "")


def store_for(alias: Alias) -> ObjectStore:
    options = alias.options
    return ObjectStore(
        options, options.static_bucket if alias.is_static else options.default_bucket, alias=alias.name
    )


def _finding(name: str, learn: Callable[[], bool | None]) -> Finding:
    try:
        return Finding(name, learn())
    except StorageServerError as error:
        return Finding(name, None, str(error))


def report(alias: Alias) -> list[Finding]:
    """Learn (or recall) every capability this alias's settings may need. Makes requests."""
    store = store_for(alias)
    if not store.bucket_exists():
        return [
            Finding("bucket", None, f"bucket {store.bucket!r} does not exist: run initialize_buckets first")
        ]
    findings = [
        _finding("if-none-match-put", lambda: store.honours_if_none_match(capabilities.PUT)),
        _finding("if-none-match-complete", lambda: store.honours_if_none_match(capabilities.COMPLETE)),
        _finding("bucket-policies", lambda: buckets.read_policy(store)[2]),
        _finding("presigned-post", store.learn_presigned_post),
        _finding("tagging", store.learn_tagging),
    ]
    sse = encryption.for_writes(alias.options)
    if sse is not None:
        headers = sse.headers()
        findings.append(
            _finding(
                capabilities.encryption(encryption.mode_of(headers) or ""),
                lambda: store.confirms_encryption(headers),
            )
        )
    return [*findings, _finding("versioning", lambda: _versioned(store))]


def _versioned(store: ObjectStore) -> bool | None:
    status = store.versioning()
    return None if status is None else status != "Off"
