"""copy_files_to_minio killed midway (SIGKILL) and run again: nothing copied twice, nothing half-stored."""

from __future__ import annotations

import copy
import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.core.files.storage import storages
from django.core.management import call_command

from django_minio_backend.core.conditional import listed_is_claim

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024
WORKER = """
import sys, django
from django.conf import settings
endpoint, access, secret, bucket, src, prefix = sys.argv[1:7]
settings.configure(
    INSTALLED_APPS=["django_minio_backend"], USE_TZ=True,
    STORAGES={"default": {"BACKEND": "django_minio_backend.models.MinioBackend", "OPTIONS": {
        "MINIO_ENDPOINT": endpoint, "MINIO_ACCESS_KEY": access, "MINIO_SECRET_KEY": secret,
        "MINIO_USE_HTTPS": False, "MINIO_PRIVATE_BUCKETS": [bucket], "MINIO_DEFAULT_BUCKET": bucket,
        "MINIO_MULTIPART_UPLOAD": True, "MINIO_MULTIPART_THRESHOLD": 5 * 1024 * 1024,
        "MINIO_MULTIPART_PART_SIZE": 5 * 1024 * 1024}}},
)
django.setup()
from django.core.management import call_command
call_command("copy_files_to_minio", "--from-path", src, "--prefix", prefix, "--workers", "2")
"""


def settled_listing(storage, prefix: str) -> dict:
    """The listing once it stops changing: a PUT the killed process had sent may still complete,
    and Swift updates its container listings a moment after the PUT (bounded: 10 s)."""
    listing, seen, deadline = {}, None, time.monotonic() + 10
    while time.monotonic() < deadline:
        listing = {o.object_name: o for o in storage.store.list(prefix, recursive=True)}
        signature = {key: (o.size, o.etag) for key, o in listing.items()}
        if signature == seen:
            break
        seen = signature
        time.sleep(1)
    return listing


def test_killed_run_resumes_without_copying_twice(minio_settings, s3_server, counter, tmp_path, name):
    files = {}
    for i in range(400):
        files[f"small/{i:03d}.txt"] = f"file {i}\n".encode() * 50
    for i in range(3):
        files[f"big/{i}.bin"] = os.urandom(11 * MiB)  # 3 parts each
    for relative, body in files.items():
        path = tmp_path / "tree" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    target = storages["default"]
    bucket = target.bucket
    argv = [sys.executable, "-c", WORKER, s3_server.endpoint, s3_server.access_key, s3_server.secret_key]
    argv += [bucket, str(tmp_path / "tree"), name]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if len(list(target.store.list(f"{name}/small/", recursive=True))) >= 40:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the copy ended before it could be killed; make the tree bigger"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    stored = settled_listing(target, f"{name}/")
    done_before = {key for key, item in stored.items() if not listed_is_claim(item)}
    assert 40 <= len(done_before) < len(files)
    for key in done_before:  # what is there is whole: every listed object is its file's bytes
        relative = key[len(name) + 1 :]
        assert stored[key].size == len(files[relative])

    configured = copy.deepcopy(minio_settings.STORAGES)
    configured["default"]["OPTIONS"].update(
        MINIO_HTTP_CLIENT=counter,
        MINIO_MULTIPART_UPLOAD=True,
        MINIO_MULTIPART_THRESHOLD=5 * MiB,
        MINIO_MULTIPART_PART_SIZE=5 * MiB,
    )
    minio_settings.STORAGES = configured
    counter.reset()
    out = io.StringIO()
    call_command("copy_files_to_minio", "--from-path", str(tmp_path / "tree"), "--prefix", name, stdout=out)
    written = {
        path.split("/", 2)[2]
        for method, path in counter.requests
        if method == "PUT" and not path.endswith("/") and "probe" not in path
    }
    assert not written & done_before, "a file stored before the kill was written again"
    assert f"{len(files) - len(done_before)} copied" in out.getvalue()
    resumed = storages["default"]
    for relative, body in files.items():
        with resumed.open(f"{name}/{relative}") as handle:
            assert hashlib.md5(handle.read()).digest() == hashlib.md5(body).digest()
    counter.reset()
    out = io.StringIO()
    call_command("copy_files_to_minio", "--from-path", str(tmp_path / "tree"), "--prefix", name, stdout=out)
    assert f"0 copied (0 B), {len(files)} skipped" in out.getvalue()
    assert [m for m, _ in counter.requests if m in ("PUT", "POST")] == []
