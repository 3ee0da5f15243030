"""Requests per Storage operation, and peak RSS while saving and reading a 256 MiB object.

Run: .venv/bin/python benchmarks/foundation.py  (starts Ceph RGW when installed, else moto)
Writes benchmarks/results/foundation.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._django import PRIVATE, PUBLIC, configure, create_buckets

BIG = 256 * 1024 * 1024
CHUNK = 1024 * 1024
RESULTS = Path(__file__).resolve().parent / "results" / "foundation.md"


class Generated:
    """A non-seekable stream of ``size`` bytes made chunk by chunk (never all in memory)."""

    def __init__(self, size: int) -> None:
        self.remaining = size
        self.block = os.urandom(CHUNK)

    def read(self, size: int = -1) -> bytes:
        size = CHUNK if size is None or size < 0 else min(size, CHUNK)
        size = min(size, self.remaining)
        self.remaining -= size
        return self.block[:size]


def rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(field)


def count_requests() -> list[tuple[str, str, int]]:
    from django.core.files.base import ContentFile

    from django_minio_backend.models import MinioBackend

    from tests.support import CountingPoolManager

    pool = CountingPoolManager()

    def make(bucket: str, **kwargs) -> MinioBackend:
        return MinioBackend(bucket_name=bucket, storage_name="default", MINIO_HTTP_CLIENT=pool, **kwargs)

    private, public, overwrite = make(PRIVATE), make(PUBLIC), make(PRIVATE, replace_existing=True)
    prefix = f"bench-{time.time_ns()}"
    private.save(f"{prefix}/warm.txt", ContentFile(b"warm"))  # connections opened, bucket known
    rows = []

    def measure(label: str, action) -> None:
        pool.reset()
        action()
        methods = pool.methods()
        rows.append((label, " + ".join(methods) or "none", len(methods)))

    measure("save (new name)", lambda: private.save(f"{prefix}/new.txt", ContentFile(b"x" * 1000)))
    measure(
        "save (overwrite, replace_existing)", lambda: overwrite.save(f"{prefix}/new.txt", ContentFile(b"y"))
    )
    measure("open + read", lambda: private.open(f"{prefix}/new.txt").read())
    measure("exists", lambda: private.exists(f"{prefix}/new.txt"))
    measure("size", lambda: private.size(f"{prefix}/new.txt"))
    measure("url (private, presigned)", lambda: private.url(f"{prefix}/new.txt"))
    measure("url (public)", lambda: public.url(f"{prefix}/new.txt"))
    measure("listdir", lambda: private.listdir(prefix))
    measure("delete", lambda: private.delete(f"{prefix}/new.txt"))
    return rows


def memory_child(operation: str) -> dict:
    from django_minio_backend.models import MinioBackend

    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", replace_existing=True)
    storage.client  # noqa: B018 (build the client before the baseline)
    name = "bench/big.bin"
    baseline = rss_kib("VmRSS")
    started = time.perf_counter()
    if operation == "save-stream":
        storage.save(name, Generated(BIG))
    elif operation == "save-file":
        from django.core.files import File

        with tempfile.NamedTemporaryFile() as handle:
            block = os.urandom(CHUNK)
            for _ in range(BIG // CHUNK):
                handle.write(block)
            handle.flush()
            baseline = rss_kib("VmRSS")
            started = time.perf_counter()
            with open(handle.name, "rb") as source:
                storage.save(name, File(source))
    elif operation == "read":
        total = 0
        with storage.open(name) as handle:
            while chunk := handle.read(CHUNK):
                total += len(chunk)
        assert total == BIG, total
    seconds = time.perf_counter() - started
    return {
        "operation": operation,
        "baseline_mib": baseline / 1024,
        "peak_mib": rss_kib("VmHWM") / 1024,
        "increase_mib": (rss_kib("VmHWM") - baseline) / 1024,
        "seconds": seconds,
    }


def run_memory(operation: str, options: dict) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--memory", operation],
        env={**os.environ, "BENCH_OPTIONS": json.dumps(options)},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    from django_minio_backend.testing import start_server

    with start_server() as running:
        server = running.server
        options = server.storage_options()
        configure(options)
        create_buckets(server.client(), server.region)
        rows = count_requests()
        memory = [run_memory(op, options) for op in ("save-stream", "save-file", "read")]
    lines = [
        "# Core Storage API: requests per operation and memory",
        "",
        f"Server: {server.kind}. Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        "`benchmarks/foundation.py` (client-side request count through a counting PoolManager).",
        "",
        "| operation | requests | count |",
        "|---|---|---|",
        *[f"| {label} | {methods} | {count} |" for label, methods, count in rows],
        "",
        "## 256 MiB object, each in a fresh process",
        "",
        "| operation | RSS before (MiB) | peak RSS (MiB) | peak increase (MiB) | time (s) |",
        "|---|---|---|---|---|",
        *[
            f"| {m['operation']} | {m['baseline_mib']:.1f} | {m['peak_mib']:.1f} | "
            f"{m['increase_mib']:.1f} | {m['seconds']:.2f} |"
            for m in memory
        ],
        "",
        "Uploads go in parts of MINIO_MULTIPART_PART_SIZE (10 MiB by default), one after another: a "
        "seekable file streams each part straight from the file (save-file), a stream that cannot "
        "rewind is read into one reused part buffer (save-stream: that buffer plus the first "
        "threshold's worth read to choose between one PUT and multipart). Reads stream through a "
        "256 KiB buffer.",
    ]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--memory":
        bench_options = json.loads(os.environ["BENCH_OPTIONS"])
        configure(bench_options)
        print(json.dumps(memory_child(sys.argv[2])))
    else:
        main()
