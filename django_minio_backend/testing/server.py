"""What a test server is: where it listens (S3Server) and the handle that stops it (RunningServer)."""

from __future__ import annotations

import atexit
import logging
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._process import kill_pid, pid_alive, reap

if TYPE_CHECKING:
    from minio import Minio

logger = logging.getLogger("django_minio_backend.testing")

KINDS = ("auto", "rgw", "moto", "swift", "external")
STRICT_KINDS = ("rgw", "swift", "external")

# The S3 features a test server may lack (``S3Server.lacks``), each named once:
CAPABILITIES = frozenset(
    {
        "conditional-put",  # If-None-Match: * on PUT is refused with 412 when the key exists
        "conditional-complete",  # the same on CompleteMultipartUpload
        "bucket-policies",  # Get/PutBucketPolicy, and so public buckets; anonymous reads they allow
        "presigned-post",  # browser form uploads (POST with a signed policy)
        "tagging",  # object tags (x-amz-tagging, GetObjectTagging)
        "sse-s3",  # server-side encryption, confirmed in the answer
        "sse-c",
        "sse-kms",
        "object-lock",  # buckets with object lock, retention
        "cors",  # bucket CORS configuration
        "anonymous-403",  # an anonymous request to a private object is answered exactly 403
        "exact-last-modified",  # LastModified is the time of the write, not rounded up
        "long-metadata",  # user metadata values of more than 256 bytes
        "storage-classes",  # a storage class other than STANDARD
        "sts",  # AssumeRole
        "signatures",  # signatures, secrets and presigned expiry are checked
        "empty-delimiter-uploads",  # ListMultipartUploads with an empty delimiter lists every upload
        "lifecycle",  # bucket lifecycle rules (PutBucketLifecycle)
    }
)


@dataclass(frozen=True)
class S3Server:
    """Where an S3 test server listens, how to sign requests for it, and what it can do.

    ``lacks`` names the features of :data:`CAPABILITIES` the server does not offer, as its harness
    observed them (empty: everything, e.g. for an external MinIO or AWS). Ceph RGW 16 lacks
    ``conditional-complete`` and ``cors``; moto lacks ``signatures``, ``anonymous-403`` and the
    server-side encryption modes; OpenStack Swift's s3api lacks most of the list (see
    ``_swift.LACKS``). Ask with :meth:`supports`; tests say what they need with
    ``@pytest.mark.s3_needs("bucket-policies", ...)`` and are skipped, with the capability named,
    where the server lacks it.
    """

    kind: str
    endpoint: str
    access_key: str
    secret_key: str = field(repr=False)
    region: str = "us-east-1"
    use_https: bool = False
    # What the server offers beyond plain S3 (empty: not offered): an STS role the user may assume,
    # a KMS key id for SSE-KMS, and the storage classes it accepts.
    sts_role_arn: str = ""
    kms_key_id: str = ""
    storage_classes: tuple[str, ...] = ("STANDARD",)
    lacks: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = set(self.lacks) - CAPABILITIES
        if unknown:
            raise ValueError(
                f"unknown capabilities {sorted(unknown)}; known: {', '.join(sorted(CAPABILITIES))}"
            )

    def supports(self, capability: str) -> bool:
        """True unless the server lacks ``capability`` (one of :data:`CAPABILITIES`)."""
        if capability not in CAPABILITIES:
            raise ValueError(f"unknown capability {capability!r}; known: {', '.join(sorted(CAPABILITIES))}")
        return capability not in self.lacks

    @property
    def strict(self) -> bool:
        """True when the server enforces signatures, presigned expiry and policies."""
        return is_strict_kind(self.kind)

    @property
    def url(self) -> str:
        scheme = "https" if self.use_https else "http"
        return f"{scheme}://{self.endpoint}"

    def client(self) -> Minio:
        """A new minio client for this server."""
        from minio import Minio

        return Minio(
            endpoint=self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=self.use_https,
            region=self.region,
        )

    def storage_options(self, **extra: Any) -> dict[str, Any]:
        """The storage options that point django-minio-backend at this server, plus ``extra``."""
        options: dict[str, Any] = {
            "MINIO_ENDPOINT": self.endpoint,
            "MINIO_ACCESS_KEY": self.access_key,
            "MINIO_SECRET_KEY": self.secret_key,
            "MINIO_USE_HTTPS": self.use_https,
            "MINIO_REGION": self.region,
        }
        return options | extra


class RunningServer:
    """A started server: stop it with :meth:`stop` or by leaving a ``with`` block.

    ``stop`` kills the server's processes by pid and removes its temporary directory. It is
    idempotent and also runs at interpreter exit.
    """

    def __init__(
        self,
        server: S3Server,
        *,
        pids: tuple[int, ...] = (),
        workdir: Path | None = None,
        children: tuple[subprocess.Popen[bytes], ...] = (),
        startup_seconds: float = 0.0,
    ) -> None:
        self.server = server
        self.workdir = workdir
        self.startup_seconds = startup_seconds
        self._pids = pids
        self._children = children
        self._lock = threading.Lock()
        self._stopped = False
        atexit.register(self.stop)

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running"
        return f"<RunningServer {self.server.kind} {self.server.endpoint} pids={self.pids} {state}>"

    @property
    def pids(self) -> tuple[int, ...]:
        """The server's processes, in the order :meth:`stop` kills them."""
        return self._pids

    @property
    def children(self) -> tuple[subprocess.Popen[bytes], ...]:
        """The processes started as our children (each in its own session)."""
        return self._children

    @property
    def stopped(self) -> bool:
        return self._stopped

    def alive(self) -> bool:
        """True while every process of the server runs (always true for external servers)."""
        return not self._stopped and all(pid_alive(pid) for pid in self.pids)

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        atexit.unregister(self.stop)
        children = self.children
        own_sessions = {child.pid for child in children}
        for pid in self.pids:
            kill_pid(pid, group=pid in own_sessions)
        for child in children:
            reap(child)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass(frozen=True)
class _Kind:
    start: Callable[[], RunningServer]
    strict: bool
    lacks: frozenset[str] | None


_registered: dict[str, _Kind] = {}


def register_kind(
    name: str,
    start: Callable[[], RunningServer],
    *,
    strict: bool,
    lacks: frozenset[str] | None = None,
) -> None:
    """Add a server kind that ``MINIO_TEST_SERVER=<name>`` and ``start_server(name)`` can start.

    For harnesses that live outside this package, such as the project's own Ceph cluster:
    ``start`` takes no argument and returns a started :class:`RunningServer`; ``strict`` says
    whether that server enforces signatures, presigned expiry and policies (``s3_strict`` tests
    run only then). ``lacks``, when known before the server starts, is what its ``S3Server.lacks``
    will say, so that ``s3_needs`` tests it cannot run are skipped without starting it. Call it
    before the first server starts, e.g. at the top of ``conftest.py``::

        register_kind("rgw-cluster", start_rgw_cluster, strict=True)

    Registering a name again replaces its starter; the built-in kinds cannot be replaced.
    """
    name = name.strip().lower()
    if name in KINDS:
        raise ValueError(f"{name!r} is a built-in S3 test server kind")
    if lacks is not None and not lacks <= CAPABILITIES:
        raise ValueError(f"unknown capabilities {sorted(lacks - CAPABILITIES)}")
    _registered[name] = _Kind(start, strict, None if lacks is None else frozenset(lacks))


def kinds() -> tuple[str, ...]:
    """Every kind ``MINIO_TEST_SERVER`` accepts: the built-in :data:`KINDS`, then registered ones."""
    return KINDS + tuple(_registered)


def is_strict_kind(kind: str) -> bool:
    """True when servers of ``kind`` enforce signatures, presigned expiry and policies."""
    registered = _registered.get(kind)
    return registered.strict if registered is not None else kind in STRICT_KINDS


def registered_lacks(kind: str) -> frozenset[str] | None:
    """What a kind added with :func:`register_kind` lacks, if it said so (else None)."""
    registered = _registered.get(kind)
    return registered.lacks if registered is not None else None


def registered_start(kind: str) -> Callable[[], RunningServer] | None:
    """How to start a kind added with :func:`register_kind` (None for the built-in kinds)."""
    registered = _registered.get(kind)
    return registered.start if registered is not None else None
