"""The choice of test server: the kinds there are, and starting the one the environment asks for."""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING

from .server import CAPABILITIES, RunningServer, S3Server, kinds, registered_lacks, registered_start

if TYPE_CHECKING:
    pass

logger = logging.getLogger("django_minio_backend.testing")


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


def planned_lacks(kind: str | None = None) -> frozenset[str] | None:
    """What the planned server lacks (``S3Server.lacks``), or None when only starting it tells."""
    from . import _moto, _rgw, _swift

    kind = planned_kind(kind)
    built_in = {"rgw": _rgw.LACKS, "moto": _moto.LACKS, "swift": _swift.LACKS}
    if kind in built_in:
        return built_in[kind]
    if kind == "external":
        return external_lacks()
    return registered_lacks(kind)


def external_lacks() -> frozenset[str]:
    """``MINIO_TEST_LACKS``: the capabilities an external server lacks, comma-separated."""
    named = {part.strip() for part in os.environ.get("MINIO_TEST_LACKS", "").split(",") if part.strip()}
    unknown = named - CAPABILITIES
    if unknown:
        known = ", ".join(sorted(CAPABILITIES))
        raise ValueError(f"MINIO_TEST_LACKS names unknown capabilities {sorted(unknown)}; known: {known}")
    return frozenset(named)


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
        lacks=external_lacks(),
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

    ``kind`` is ``rgw``, ``moto``, ``swift``, ``external``, ``auto`` or a kind added with
    :func:`register_kind`; None reads ``MINIO_TEST_SERVER``.
    """
    from . import _moto, _rgw, _swift

    kind = (kind or selected_kind()).strip().lower()
    if kind == "auto":
        return _start_auto()
    if kind == "external":
        return external_server()
    if kind == "rgw":
        return _rgw.start_rgw()
    if kind == "moto":
        return _moto.start_moto()
    if kind == "swift":
        return _swift.start_swift()
    start = registered_start(kind)
    if start is not None:
        return start()
    raise ValueError(f"unknown S3 test server kind {kind!r}; use one of {', '.join(kinds())}")
