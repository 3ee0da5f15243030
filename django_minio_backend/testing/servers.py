"""The S3 server description, the handle of a running server, and the choice of server."""

from __future__ import annotations

import atexit
import logging
import os
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


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def selected_kind() -> str:
    """The kind named by ``MINIO_TEST_SERVER`` (default ``auto``)."""
    kind = os.environ.get("MINIO_TEST_SERVER", "").strip().lower() or "auto"
    if kind not in kinds():
        raise ValueError(f"MINIO_TEST_SERVER={kind!r} is not one of {', '.join(kinds())}")
    return kind


def planned_kind(kind: str | None = None) -> str:
    """The kind :func:`start_server` will try first, without starting anything."""
    from . import _rgw

    kind = kind or selected_kind()
    if kind != "auto":
        return kind
    if os.environ.get("MINIO_TEST_ENDPOINT"):
        return "external"
    return "rgw" if _rgw.available() else "moto"


def external_server() -> RunningServer:
    """Describe the server given by the ``MINIO_TEST_*`` variables; nothing is started."""
    missing = [
        name
        for name in ("MINIO_TEST_ENDPOINT", "MINIO_TEST_ACCESS_KEY", "MINIO_TEST_SECRET_KEY")
        if not os.environ.get(name)
    ]
    if missing:
        raise RuntimeError(f"external S3 test server needs environment {', '.join(missing)}")
    server = S3Server(
        kind="external",
        endpoint=os.environ["MINIO_TEST_ENDPOINT"],
        access_key=os.environ["MINIO_TEST_ACCESS_KEY"],
        secret_key=os.environ["MINIO_TEST_SECRET_KEY"],
        region=os.environ.get("MINIO_TEST_REGION") or "us-east-1",
        use_https=_env_flag("MINIO_TEST_USE_HTTPS"),
    )
    return RunningServer(server)


def _start_auto() -> RunningServer:
    from . import _moto, _rgw

    if os.environ.get("MINIO_TEST_ENDPOINT"):
        return external_server()
    strict = _env_flag("S3_STRICT")
    if not _rgw.available():
        if strict:
            raise RuntimeError(
                "S3_STRICT=1 needs Ceph RGW or an external server, but these are not on PATH: "
                + ", ".join(_rgw.missing_binaries())
            )
        return _moto.start_moto()
    try:
        return _rgw.start_rgw()
    except RuntimeError as exc:
        if strict:
            raise RuntimeError(f"S3_STRICT=1 and Ceph RGW did not start: {exc}") from exc
        logger.warning("Ceph RGW did not start, falling back to moto: %s", exc)
    return _moto.start_moto()


_shared: RunningServer | None = None
_shared_lock = threading.Lock()


def shared_server() -> RunningServer:
    """This process's server: started (as :func:`start_server` would) on the first call.

    Later calls return the same server while it runs. It stops at interpreter exit, or earlier
    through its ``stop()``.
    """
    global _shared
    with _shared_lock:
        if _shared is None or _shared.stopped:
            _shared = start_server()
        return _shared


def start_server(kind: str | None = None) -> RunningServer:
    """Start (or, for ``external``, describe) an S3 test server.

    ``kind`` is ``rgw``, ``moto``, ``external``, ``auto`` or a kind added with
    :func:`register_kind`; None reads ``MINIO_TEST_SERVER``.
    """
    from . import _moto, _rgw

    kind = (kind or selected_kind()).strip().lower()
    if kind == "auto":
        return _start_auto()
    if kind == "external":
        return external_server()
    if kind == "rgw":
        return _rgw.start_rgw()
    if kind == "moto":
        return _moto.start_moto()
    if kind in _registered:
        return _registered[kind].start()
    raise ValueError(f"unknown S3 test server kind {kind!r}; use one of {', '.join(kinds())}")
