"""Write mode, server-side encryption, storage class and temporary credentials: requests, memory, time.

Run: .venv/bin/python benchmarks/cloud.py  (starts Ceph RGW when installed, else moto).
Writes benchmarks/results/cloud.md.

Requests are counted by a counting PoolManager given as MINIO_HTTP_CLIENT. Peak RSS of the
100 MiB write is measured in this process: Linux's peak (VmHWM) is reset just before the write
(/proc/self/clear_refs) and compared with the RSS at that moment.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._django import PRIVATE, configure, create_buckets

MiB = 1024 * 1024
RESULTS = Path(__file__).resolve().parent / "results" / "cloud.md"


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def requests(pool) -> str:
    counts = Counter(method for method, _ in pool.requests)
    return ", ".join(f"{n} {method}" for method, n in sorted(counts.items())) or "0"


def measure(pool, label: str, action) -> tuple[str, str, float]:
    pool.reset()
    start = time.perf_counter()
    action()
    seconds = time.perf_counter() - start
    return label, requests(pool), seconds


def write_mode_rows(storage, pool, prefix: str) -> list[tuple[str, str, float]]:
    block = b"z" * MiB

    def write(name: str, mib: int, tail: bytes = b"") -> None:
        with storage.open(name, "wb") as handle:
            for _ in range(mib):
                handle.write(block)
            handle.write(tail)

    rows = [
        measure(pool, "open('wb'), write 1 KiB, close", lambda: write(f"{prefix}/1k.bin", 0, b"k" * 1024)),
        measure(pool, "open('wb'), write 12 MiB, close", lambda: write(f"{prefix}/12m.bin", 12)),
    ]

    def failing() -> None:
        try:
            with storage.open(f"{prefix}/boom.bin", "wb") as handle:
                for _ in range(11):
                    handle.write(block)
                raise RuntimeError("boom")
        except RuntimeError:
            pass

    rows.append(measure(pool, "open('wb'), write 11 MiB, raise inside the with block", failing))
    return rows


def peak_of_100_mib(storage, prefix: str) -> tuple[float, float]:
    block = b"z" * MiB
    if os.path.exists("/proc/self/clear_refs"):
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    before = _status_kib("VmRSS")
    start = time.perf_counter()
    with storage.open(f"{prefix}/100m.bin", "wb") as handle:
        for _ in range(100):
            handle.write(block)
    seconds = time.perf_counter() - start
    return (_status_kib("VmHWM") - before) / 1024, seconds


def encryption_rows(server, pool, prefix: str) -> list[tuple[str, str, float]]:
    from django.core.files.base import ContentFile

    from django_minio_backend.models import MinioBackend

    variants = [
        ("no encryption", {}),
        ("SSE-C", {"MINIO_SERVER_SIDE_ENCRYPTION": "SSE-C", "MINIO_SSE_CUSTOMER_KEY": bytes(range(32))}),
    ]
    if server.kms_key_id:
        variants.append(
            (
                "SSE-KMS",
                {"MINIO_SERVER_SIDE_ENCRYPTION": "SSE-KMS", "MINIO_SSE_KMS_KEY_ID": server.kms_key_id},
            )
        )
    if "REDUCED_REDUNDANCY" in server.storage_classes:
        variants.append(("MINIO_STORAGE_CLASS", {"MINIO_STORAGE_CLASS": "REDUCED_REDUNDANCY"}))
    rows = []
    for label, options in variants:
        storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", **options)
        storage.save(f"{prefix}/warm-{label}.txt", ContentFile(b"w"))  # the endpoint probe is not counted
        name = f"{prefix}/{label}.txt"
        rows.append(
            measure(
                pool,
                f"{label}: save (new name)",
                lambda s=storage, n=name: s.save(n, ContentFile(b"x" * 1000)),
            )
        )

        def read(s=storage, n=name) -> None:
            with s.open(n) as handle:
                handle.read()

        rows.append(measure(pool, f"{label}: open + read", read))
        rows.append(measure(pool, f"{label}: size()", lambda s=storage, n=name: s.size(n)))
    return rows


def credentials_rows(server, pool, prefix: str) -> list[tuple[str, str, float]]:
    import boto3
    from django.core.files.base import ContentFile
    from minio.credentials import Credentials, Provider

    from django_minio_backend.models import MinioBackend

    if not server.sts_role_arn:
        return []
    sts = boto3.client(
        "sts",
        endpoint_url=server.url,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name=server.region,
    )
    temporary = sts.assume_role(RoleArn=server.sts_role_arn, RoleSessionName="benchmark")["Credentials"]

    class Counting(Provider):
        calls = 0

        def retrieve(self) -> Credentials:
            Counting.calls += 1
            return Credentials(
                temporary["AccessKeyId"], temporary["SecretAccessKey"], temporary["SessionToken"]
            )

    storage = MinioBackend(
        bucket_name=PRIVATE,
        storage_name="default",
        MINIO_ACCESS_KEY="",
        MINIO_SECRET_KEY="",
        MINIO_CREDENTIALS_PROVIDER=Counting(),
    )
    storage.save(f"{prefix}/sts-warm.txt", ContentFile(b"w"))
    Counting.calls = 0
    row = measure(
        pool,
        "STS credentials provider: save + open/read + size + delete",
        lambda: (
            storage.save(f"{prefix}/sts.txt", ContentFile(b"x")),
            storage.open(f"{prefix}/sts.txt").read(),
            storage.size(f"{prefix}/sts.txt"),
            storage.delete(f"{prefix}/sts.txt"),
        ),
    )
    label, counted, seconds = row
    return [(f"{label} (provider asked {Counting.calls} times)", counted, seconds)]


def main() -> None:
    from django_minio_backend.models import MinioBackend
    from django_minio_backend.testing import start_server

    from tests.support import CountingPoolManager

    pool = CountingPoolManager(maxsize=16)
    with start_server() as running:
        server = running.server
        configure(server.storage_options(MINIO_HTTP_CLIENT=pool))
        create_buckets(server.client(), server.region)
        prefix = f"cloud-{time.time_ns()}"
        storage = MinioBackend(bucket_name=PRIVATE, storage_name="default")
        rows = write_mode_rows(storage, pool, prefix)
        peak_mib, seconds_100 = peak_of_100_mib(storage, prefix)
        rows += encryption_rows(server, pool, prefix)
        rows += credentials_rows(server, pool, prefix)
        write(server, rows, peak_mib, seconds_100)
    print(RESULTS.read_text())


def write(server, rows, peak_mib: float, seconds_100: float) -> None:
    lines = [
        "# Write mode, encryption, storage class, temporary credentials",
        "",
        f"Server: {server.kind}. Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        f"`benchmarks/cloud.py`, Python {sys.version.split()[0]}, on a 2-core machine shared with other "
        f"work (load average {os.getloadavg()[0]:.1f} at the end; times are indicative).",
        "",
        f"**100 MiB through `open(name, 'wb')`** (1 MiB writes, 5 MiB parts): peak RSS "
        f"+{peak_mib:.1f} MiB over the RSS before the write, {seconds_100:.2f} s.",
        "",
        "| operation | requests | seconds |",
        "|---|---|---|",
    ]
    lines += [f"| {label} | {counted} | {seconds:.3f} |" for label, counted, seconds in rows]
    lines += [
        "",
        "Write mode: a file within one part (5 MiB) is one PUT on close; past it, CreateMultipartUpload "
        "(POST) and one PUT per part, then CompleteMultipartUpload (POST) on close. An exception in the "
        "`with` block aborts (DELETE ?uploadId) and stores nothing.",
        "",
        "Encryption and storage class add headers, not requests: the counts match the unencrypted "
        "storage. SSE-C sends its key with each of these requests. The credentials provider is asked "
        "before every request (minio's and the package's own signed writes; a signed PUT asks twice, "
        "once more for the URL minio shapes), so refreshed credentials are used at once.",
    ]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
