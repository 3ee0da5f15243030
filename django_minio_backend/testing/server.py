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

KINDS = ("auto", "rgw", "moto", "external")
STRICT_KINDS = ("rgw", "external")


@dataclass(frozen=True)
class S3Server:
    """Where an S3 test server listens and how to sign requests for it."""

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


_registered: dict[str, _Kind] = {}


def register_kind(name: str, start: Callable[[], RunningServer], *, strict: bool) -> None:
    """Add a server kind that ``MINIO_TEST_SERVER=<name>`` and ``start_server(name)`` can start.

    For harnesses that live outside this package, such as the project's own Ceph cluster:
    ``start`` takes no argument and returns a started :class:`RunningServer`; ``strict`` says
    whether that server enforces signatures, presigned expiry and policies (``s3_strict`` tests
    run only then). Call it before the first server starts, e.g. at the top of ``conftest.py``::

        register_kind("rgw-cluster", start_rgw_cluster, strict=True)

    Registering a name again replaces its starter; the built-in kinds cannot be replaced.
    """
    name = name.strip().lower()
    if name in KINDS:
        raise ValueError(f"{name!r} is a built-in S3 test server kind")
    _registered[name] = _Kind(start, strict)


def kinds() -> tuple[str, ...]:
    """Every kind ``MINIO_TEST_SERVER`` accepts: the built-in :data:`KINDS`, then registered ones."""
    return KINDS + tuple(_registered)


def is_strict_kind(kind: str) -> bool:
    """True when servers of ``kind`` enforce signatures, presigned expiry and policies."""
    registered = _registered.get(kind)
    return registered.strict if registered is not None else kind in STRICT_KINDS


def registered_start(kind: str) -> Callable[[], RunningServer] | None:
    """How to start a kind added with :func:`register_kind` (None for the built-in kinds)."""
    registered = _registered.get(kind)
    return registered.start if registered is not None else None
