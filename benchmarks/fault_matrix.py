"""Fault matrix: each Storage operation under each injected network fault, with outcome and time.

Run: .venv/bin/python benchmarks/fault_matrix.py  (starts Ceph RGW when installed, else moto)
Writes benchmarks/results/fault_matrix.md. A FaultProxy (tests/support/faultproxy.py) sits between
the storage and the server; the storage runs with MINIO_CONNECT_TIMEOUT = MINIO_READ_TIMEOUT = 1 s
and MINIO_MAX_RETRIES = 2, as in tests/reliability/test_faults.py.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._django import PRIVATE, configure, create_buckets

RESULTS = Path(__file__).resolve().parent / "results" / "fault_matrix.md"


def main() -> None:
    from django_minio_backend.testing import start_server

    with start_server() as running:
        server = running.server
        configure(server.storage_options())
        create_buckets(server.client(), server.region)
        rows = measure(server)
    header = (
        f"# Fault matrix ({server.kind})\n\n"
        "Each Storage operation through tests/support/faultproxy.py, with MINIO_CONNECT_TIMEOUT = "
        "MINIO_READ_TIMEOUT = 1 s and MINIO_MAX_RETRIES = 2. A cell is the outcome and the time it "
        "took; for injected 5xx, how many requests got the fault (1 + retries when it never clears). "
        "`url` makes no request, so no fault reaches it.\n\n"
    )
    RESULTS.write_text(header + table(rows) + "\n")
    print(RESULTS.read_text())


def measure(server) -> dict[tuple[str, str], str]:
    from django.core.files.base import ContentFile

    from django_minio_backend.models import MinioBackend

    from tests.reliability.test_faults import FAULTS, OPERATIONS, bounded, run_bounded
    from tests.support.faultproxy import FaultProxy

    direct = MinioBackend(bucket_name=PRIVATE, storage_name="default")
    rows = {}
    with FaultProxy(server.endpoint) as proxy:
        for fault, (kind, fields) in FAULTS.items():
            for operation, call in OPERATIONS.items():
                name = f"fm-{uuid.uuid4().hex[:8]}"
                direct.save(f"{name}/old.txt", ContentFile(b"old"))
                target = bounded(proxy, PRIVATE, replace_existing=operation == "save (overwrite)")
                proxy.faulted.clear()
                proxy.set(kind, **dict(fields))
                started = time.perf_counter()
                outcome, value = run_bounded(call, target, name)
                elapsed = time.perf_counter() - started
                proxy.clear()
                tries = f", {len(proxy.faulted)} faulted" if kind == "status" else ""
                label = "ok" if outcome == "ok" else type(value).__name__
                rows[(operation, fault)] = f"{label} {elapsed:.2f} s{tries}"
    return rows


def table(rows: dict[tuple[str, str], str]) -> str:
    operations = list(dict.fromkeys(op for op, _ in rows))
    faults = list(dict.fromkeys(fault for _, fault in rows))
    lines = ["| operation | " + " | ".join(faults) + " |", "|---" * (len(faults) + 1) + "|"]
    for operation in operations:
        lines.append(f"| {operation} | " + " | ".join(rows[(operation, f)] for f in faults) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
