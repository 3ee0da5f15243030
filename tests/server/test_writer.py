"""Write mode: storage.open(name, "wb"/"w") streams to the bucket and stores the object on close."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from django_minio_backend.conf.options import MiB
from django_minio_backend.errors import ReadOnlyStorageError
from django_minio_backend.models import MinioBackend

from tests.support import PRIVATE, boto3_client, stored


def incomplete_uploads(s3_server, prefix: str) -> list[str]:
    """Keys of the multipart uploads in progress under ``prefix``, asked with boto3 (an independent client)."""
    answer = boto3_client(s3_server).list_multipart_uploads(Bucket=PRIVATE, Prefix=prefix)
    return [upload["Key"] for upload in answer.get("Uploads", [])]


def test_small_binary_write_is_one_put_on_close(counted_storage, counter, name):
    target = f"{name}/small.bin"
    handle = counted_storage.open(target, "wb")
    handle.write(b"hello ")
    handle.write(bytearray(b"world"))
    assert not counted_storage.exists(target)  # nothing visible before close
    counter.reset()
    handle.close()
    assert counter.methods() == ["PUT"]
    assert handle.closed
    assert stored(counted_storage, target) == b"hello world"


def test_text_mode_encodes_utf8_by_default_and_honours_encoding(storage, name):
    with storage.open(f"{name}/u.txt", "w") as handle:
        handle.write("héllo ")
        handle.writelines(["wörld", "\n"])
    assert stored(storage, f"{name}/u.txt") == "héllo wörld\n".encode()
    with storage.open(f"{name}/l.txt", "w", encoding="latin-1") as handle:
        handle.write("café")
    assert stored(storage, f"{name}/l.txt") == "café".encode("latin-1")
    with storage.open(f"{name}/r.txt", "w") as handle:
        json.dump({"k": "€"}, handle)
    assert json.loads(stored(storage, f"{name}/r.txt")) == {"k": "€"}


def test_wrong_type_for_the_mode_is_a_type_error(storage, name):
    with storage.open(f"{name}/t.bin", "wb") as handle, pytest.raises(TypeError, match="bytes-like"):
        handle.write("text")
    with storage.open(f"{name}/t.txt", "w") as handle, pytest.raises(TypeError, match="must be str"):
        handle.write(b"bytes")


def test_large_write_goes_multipart_and_appears_only_on_close(counted_storage, counter, name, s3_server):
    target = f"{name}/big.bin"
    block = bytes(range(256)) * 256  # 64 KiB
    counter.reset()
    handle = counted_storage.open(target, "wb")
    for _ in range(12 * 16):  # 12 MiB: parts of 5, 5 and 2 MiB
        handle.write(block)
    deadline = time.monotonic() + 10
    while len(counter.requests) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert counter.methods() == ["POST", "PUT", "PUT"]  # create, two parts sent while writing
    assert not counted_storage.exists(target)
    counter.reset()
    handle.close()
    assert counter.methods() == ["PUT", "POST"]  # the last part, then one completion
    assert handle.tell() == 12 * MiB
    assert counted_storage.size(target) == 12 * MiB
    assert stored(counted_storage, target) == block * 12 * 16
    assert incomplete_uploads(s3_server, name) == []


def test_exception_inside_the_with_block_leaves_nothing(storage, name, s3_server):
    target = f"{name}/boom.bin"
    with pytest.raises(RuntimeError, match="boom"), storage.open(target, "wb") as handle:
        handle.write(b"x" * (11 * MiB))  # two parts sent, a multipart upload in progress
        raise RuntimeError("boom")
    assert handle.closed
    assert not storage.exists(target)
    assert incomplete_uploads(s3_server, name) == []
    with pytest.raises(RuntimeError), storage.open(f"{name}/small.bin", "wb") as handle:
        handle.write(b"small")
        raise RuntimeError("before close")
    assert not storage.exists(f"{name}/small.bin")


def test_a_discarded_unclosed_file_is_aborted_not_completed(storage, name, s3_server):
    handle = storage.open(f"{name}/gc.bin", "wb")
    handle.write(b"y" * (11 * MiB))
    del handle
    gc.collect()
    deadline = time.monotonic() + 20
    while incomplete_uploads(s3_server, name) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert incomplete_uploads(s3_server, name) == []
    assert not storage.exists(f"{name}/gc.bin")


def test_write_mode_replaces_an_existing_object(storage, name):
    with storage.open(f"{name}/a.txt", "wb") as handle:
        handle.write(b"first")
    with storage.open(f"{name}/a.txt", "wb") as handle:
        handle.write(b"second")
    assert stored(storage, f"{name}/a.txt") == b"second"


def test_read_only_storage_refuses_write_mode_without_a_request(minio_settings, counter, name):
    storage = MinioBackend(
        bucket_name=PRIVATE, storage_name="default", MINIO_READ_ONLY=True, MINIO_HTTP_CLIENT=counter
    )
    with pytest.raises(ReadOnlyStorageError, match="MINIO_READ_ONLY"):
        storage.open(f"{name}/ro.bin", "wb")
    assert counter.requests == []


@pytest.mark.parametrize("mode", ["ab", "r+b", "xb", "w+"])
def test_other_writing_modes_are_refused(storage, name, mode):
    with pytest.raises(ValueError, match="reading .* or writing"):
        storage.open(f"{name}/m.bin", mode)


def test_closed_writer_refuses_writes(storage, name):
    handle = storage.open(f"{name}/c.bin", "wb")
    handle.close()
    with pytest.raises(ValueError, match="closed file"):
        handle.write(b"late")
    assert stored(storage, f"{name}/c.bin") == b""


PEAK_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import django
    from django.conf import settings
    options = json.loads(sys.argv[1])
    settings.configure(STORAGES={"default": {"BACKEND": "django_minio_backend.models.MinioBackend",
                                             "OPTIONS": options}}, USE_TZ=True)
    django.setup()
    from django_minio_backend.models import MinioBackend
    storage = MinioBackend(bucket_name=sys.argv[2], storage_name="default")
    with storage.open(sys.argv[3] + ".warm", "wb") as f:  # imports, pool, threads warmed up
        f.write(b"w" * 1024)
    def status(field):
        with open("/proc/self/status") as proc:
            return next(int(line.split()[1]) for line in proc if line.startswith(field + ":"))
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # reset the peak (VmHWM) to the current RSS
    before = status("VmRSS")
    block = b"z" * (1024 * 1024)
    with storage.open(sys.argv[3], "wb") as f:
        for _ in range(100):
            f.write(block)
    after = status("VmHWM")
    print(json.dumps({"peak_growth_kib": after - before, "size": storage.size(sys.argv[3])}))
    """
)


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="measures RSS through Linux /proc")
def test_100_mib_write_peaks_under_32_mib_more_rss(s3_server, minio_options, name):
    result = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, json.dumps(minio_options), PRIVATE, f"{name}/100mib.bin"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    figures = json.loads(result.stdout)
    print(f"100 MiB write: peak RSS growth {figures['peak_growth_kib'] / 1024:.1f} MiB")
    assert figures["size"] == 100 * MiB
    assert figures["peak_growth_kib"] <= 32 * 1024, figures
