"""Faults between the storage and the server: every operation succeeds or raises a clear error.

A FaultProxy sits between a storage and the real server. Timeouts are short (1 s) and retries
few (2), so each failing case ends in about a second; a hang would fail the liveness guard.
"""

import io
import os
import threading

import pytest
from django.core.files.base import ContentFile

from django_minio_backend.errors import StorageServerError

from tests.support import PRIVATE, pending_uploads, stored, through

TIMEOUT = 1.0
RETRIES = 2
LIVENESS_GUARD = 30  # seconds: far above any configured timeout; only catches a hang


def bounded(proxy, bucket=PRIVATE, **extra):
    """A storage through the proxy whose requests time out after TIMEOUT and are retried RETRIES times."""
    bounds = {"MINIO_CONNECT_TIMEOUT": TIMEOUT, "MINIO_READ_TIMEOUT": TIMEOUT, "MINIO_MAX_RETRIES": RETRIES}
    return through(proxy, bucket, **{**bounds, **extra})


OPERATIONS = {
    "save": lambda s, n: s.save(f"{n}/new.txt", ContentFile(b"new")),
    "save (overwrite)": lambda s, n: s.save(f"{n}/old.txt", ContentFile(b"replacement")),
    "open+read": lambda s, n: stored(s, f"{n}/old.txt"),
    "exists": lambda s, n: s.exists(f"{n}/old.txt"),
    "size": lambda s, n: s.size(f"{n}/old.txt"),
    "url": lambda s, n: s.url(f"{n}/old.txt"),
    "delete": lambda s, n: s.delete(f"{n}/old.txt"),
    "listdir": lambda s, n: s.listdir(n),
}

FAULTS = {
    "refused": ("refuse", {}),
    "blackhole": ("blackhole", {}),
    "slow (0.3 s)": ("delay", {"seconds": 0.3}),
    "too slow (3 s)": ("delay", {"seconds": 3.0}),
    "connection dropped": ("cut_response", {"after": 0}),
    "500 always": ("status", {"status": 500}),
    "503 SlowDown x2": ("status", {"status": 503, "times": 2}),
}
SUCCEEDS = {"slow (0.3 s)", "503 SlowDown x2"}


def run_bounded(operation, *args):
    """Run ``operation`` in a thread; return ("ok", value) or ("error", exception)."""
    outcome = {}

    def target():
        try:
            outcome["ok"] = operation(*args)
        except Exception as error:
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(LIVENESS_GUARD)
    assert not thread.is_alive(), f"{operation} hung for {LIVENESS_GUARD} s"
    return next(iter(outcome.items()))


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_every_operation_succeeds_or_raises_a_clear_error(storage, proxy, name, operation, fault):
    storage.save(f"{name}/old.txt", ContentFile(b"old"))
    overwrite = operation == "save (overwrite)"
    target = bounded(proxy, replace_existing=overwrite)
    kind, fields = FAULTS[fault]
    proxy.set(kind, **fields)
    outcome, value = run_bounded(OPERATIONS[operation], target, name)
    proxy.clear()
    if fault in SUCCEEDS or operation == "url":  # url() makes no request
        assert outcome == "ok", value
        return
    assert outcome == "error"
    assert isinstance(value, StorageServerError), repr(value)
    assert proxy.endpoint in str(value) or name in str(value)
    if kind == "status":
        assert len(proxy.faulted) == 1 + RETRIES  # retried, then gave up with the server's code
        assert "InternalError" in str(value) or "500" in str(value)
    if operation == "save (overwrite)":
        # Refused, swallowed or rejected uploads never reach the object. A lost response can come
        # after the server stored the new content: either way the object is whole, never partial.
        expected = {b"old"} if kind in ("refuse", "blackhole", "status") else {b"old", b"replacement"}
        assert stored(storage, f"{name}/old.txt") in expected


@pytest.mark.parametrize("operation", ["exists", "save", "open+read"])
def test_slowdown_is_retried_until_it_succeeds(storage, proxy, name, operation):
    storage.save(f"{name}/old.txt", ContentFile(b"old"))
    proxy.set("status", status=503, times=RETRIES)
    outcome, value = run_bounded(OPERATIONS[operation], bounded(proxy), name)
    assert outcome == "ok", value
    assert len(proxy.faulted) == RETRIES


def test_overwrite_cut_mid_upload_leaves_the_old_object(storage, proxy, name):
    storage.save(f"{name}/doc.bin", ContentFile(b"old" * 1000))
    target = bounded(proxy, replace_existing=True)
    proxy.set("cut_request", match=lambda method, _: method == "PUT", after=50_000)
    with pytest.raises(StorageServerError):
        target.save(f"{name}/doc.bin", ContentFile(os.urandom(500_000)))
    assert stored(storage, f"{name}/doc.bin") == b"old" * 1000


def test_new_name_upload_cut_midway_leaves_nothing(storage, proxy, name):
    target = bounded(proxy)
    proxy.set("cut_request", match=lambda method, _: method == "PUT", after=50_000)
    with pytest.raises(StorageServerError):
        target.save(f"{name}/new.bin", ContentFile(os.urandom(500_000)))
    assert not storage.exists(f"{name}/new.bin")


@pytest.mark.parametrize("replace", [True, False])
def test_failed_multipart_upload_is_aborted_and_the_old_object_kept(s3_server, storage, proxy, name, replace):
    storage.save(f"{name}/big.bin", ContentFile(b"old"))
    target = bounded(
        proxy,
        replace_existing=replace,
        MINIO_MULTIPART_UPLOAD=True,
        MINIO_MULTIPART_THRESHOLD=5 * 1024 * 1024,
        MINIO_MULTIPART_PART_SIZE=5 * 1024 * 1024,
    )
    proxy.set("status", status=500, match=lambda method, target: "partNumber=2" in target)
    with pytest.raises(StorageServerError, match="InternalError"):
        target.save(f"{name}/big.bin", io.BytesIO(os.urandom(11 * 1024 * 1024)))
    proxy.clear()
    assert pending_uploads(s3_server, name) == []
    assert any("uploadId" in t for m, t in proxy.requests if m == "DELETE")  # aborted
    assert stored(storage, f"{name}/big.bin") == b"old"
    assert storage.listdir(name) == ([], ["big.bin"])  # no claimed placeholder left behind


def test_read_cut_midway_resumes_from_the_same_byte_of_the_same_version(storage, proxy, name):
    payload = os.urandom(2_000_000)
    storage.save(f"{name}/long.bin", ContentFile(payload))
    target = bounded(proxy)
    for read in (lambda handle: handle.read(), lambda handle: b"".join(handle.chunks())):
        proxy.set("cut_response", match=lambda method, _: method == "GET", after=40_000, times=1)
        proxy.requests.clear()
        with target.open(f"{name}/long.bin") as handle:
            assert read(handle) == payload
        assert [m for m, _ in proxy.requests] == ["GET", "GET"]  # the cut one, then one resumption


def test_read_cut_on_every_attempt_raises_and_never_returns_short_data(storage, proxy, name):
    payload = os.urandom(2_000_000)
    storage.save(f"{name}/long.bin", ContentFile(payload))
    target = bounded(proxy)
    proxy.set("cut_response", match=lambda method, _: method == "GET", after=100_000)
    handle = target.open(f"{name}/long.bin")
    with pytest.raises(StorageServerError, match=r"long\.bin.*3 resumptions"):
        handle.read()
    handle.close()
    with target.open(f"{name}/long.bin") as handle, pytest.raises(StorageServerError):
        for _chunk in handle.chunks():
            pass


def test_read_with_headers_cut_short_raises(storage, proxy, name):
    storage.save(f"{name}/short.bin", ContentFile(b"x" * 1000))
    proxy.set("cut_response", match=lambda method, _: method == "GET", after=20)  # mid-headers
    with pytest.raises(StorageServerError, match="Content-Length"):
        stored(bounded(proxy), f"{name}/short.bin")


def test_read_stalled_midway_raises_within_the_read_timeout(storage, proxy, name):
    storage.save(f"{name}/stall.bin", ContentFile(os.urandom(1_000_000)))
    target = bounded(proxy)
    proxy.set("stall_response", match=lambda method, _: method == "GET", after=300_000)
    handle = target.open(f"{name}/stall.bin")
    outcome, value = run_bounded(handle.read)
    assert outcome == "error" and isinstance(value, StorageServerError), value
    assert "stall.bin" in str(value)
    handle.close()
