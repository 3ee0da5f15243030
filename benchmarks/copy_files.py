"""copy_files_to_minio against ``rclone copy``: the same tree, the same RGW server, the same concurrency.

The tree: BENCH_SMALL small files (default 10,000, 1-8 KiB, in 100 directories) and BENCH_BIG
files of BENCH_BIG_MIB MiB (default 3 of 110 MiB). Each tool copies it into its own empty bucket
(first run), then again over what it stored (rerun). rclone is Debian's, configured through
``RCLONE_CONFIG_BENCH_*`` environment variables (an S3 remote, provider Ceph, path style), run
with ``--transfers`` = our ``--workers`` and ``--checkers`` the same. Both run as a new process;
time is wall time of that process, peak RSS its maximum resident set (``os.wait4``).

Requests are counted on the server side: the lines RGW's beast frontend writes to its log for
each request (``"PUT /bucket/key HTTP/1.1" 200``), read from the log between runs. Neither tool is
slowed down by a proxy or by debug output.

    .venv/bin/python benchmarks/copy_files.py                  # a few minutes
    BENCH_SMALL=1000 BENCH_BIG=1 .venv/bin/python benchmarks/copy_files.py

Writes benchmarks/results/copy_files.md.
"""

from __future__ import annotations

import collections
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from django_minio_backend.testing import create_bucket, start_server  # noqa: E402

RESULTS = HERE / "results" / "copy_files.md"
SMALL = int(os.environ.get("BENCH_SMALL", "10000"))
BIG = int(os.environ.get("BENCH_BIG", "3"))
BIG_MIB = int(os.environ.get("BENCH_BIG_MIB", "110"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "8"))
TIMEOUT = 900
ACCESS = re.compile(r'beast: \S+ \S+ - \S+ \[[^\]]*\] "(\w+) (\S+) HTTP/[\d.]+" (\d+)')

WORKER = """
import sys, django
from django.conf import settings
endpoint, access, secret, bucket, src, workers = sys.argv[1:7]
settings.configure(
    INSTALLED_APPS=["django_minio_backend"],
    USE_TZ=True,
    STORAGES={"default": {"BACKEND": "django_minio_backend.models.MinioBackend", "OPTIONS": {
        "MINIO_ENDPOINT": endpoint, "MINIO_ACCESS_KEY": access, "MINIO_SECRET_KEY": secret,
        "MINIO_USE_HTTPS": False, "MINIO_PRIVATE_BUCKETS": [bucket], "MINIO_DEFAULT_BUCKET": bucket,
        "MINIO_MULTIPART_UPLOAD": True, "MINIO_MULTIPART_THRESHOLD": 16 * 1024 * 1024,
        "MINIO_MULTIPART_PART_SIZE": 16 * 1024 * 1024}}},
)
django.setup()
from django.core.management import call_command
call_command("copy_files_to_minio", "--from-path", src, "--workers", workers, verbosity=1)
"""


def make_tree(root: Path) -> tuple[int, int]:
    rng = random.Random(22)
    total = 0
    for i in range(SMALL):
        path = root / f"dir{i % 100:03d}" / f"file{i:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        size = rng.randint(1024, 8192)
        path.write_bytes(rng.randbytes(size))
        total += size
    for i in range(BIG):
        path = root / "big" / f"video{i}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            for _ in range(BIG_MIB):
                out.write(rng.randbytes(1024 * 1024))
        total += BIG_MIB * 1024 * 1024
    return SMALL + BIG, total


def run(argv: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (bytes) and output of one process."""
    started = time.monotonic()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = started + TIMEOUT
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{argv[0]} did not finish in {TIMEOUT} s")
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{argv} failed:\n{output[-3000:]}")
    return elapsed, usage.ru_maxrss * 1024, output


class ServerLog:
    """The requests RGW logged since the last ``take``, by kind."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size

    def take(self) -> collections.Counter:
        with self.path.open("rb") as log:
            log.seek(self.offset)
            data = log.read().decode(errors="replace")
            self.offset += len(data.encode())
        kinds: collections.Counter = collections.Counter()
        for method, target, _status in ACCESS.findall(data):
            if method == "GET" and ("list-type" in target or "delimiter" in target or target.count("/") == 1):
                kinds["LIST"] += 1
            elif method == "POST" and "delete" in target:
                kinds["DELETE(bulk)"] += 1
            elif method == "POST":
                kinds["POST(multipart)"] += 1
            elif method == "PUT" and "partNumber" in target:
                kinds["PUT(part)"] += 1
            else:
                kinds[method] += 1
        return kinds


def fmt(kinds: collections.Counter) -> str:
    return f"{sum(kinds.values())} (" + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) + ")"


def main() -> None:
    rclone = shutil.which("rclone")
    if rclone is None:
        raise SystemExit("rclone is not installed (apt-get install rclone).")
    version = subprocess.run([rclone, "version"], capture_output=True, text=True).stdout.splitlines()[0]
    running = start_server("rgw")
    work = Path(tempfile.mkdtemp(prefix="bench-copy-"))
    try:
        server = running.server
        files, total = make_tree(work / "tree")
        client = server.client() if hasattr(server, "client") else None
        if client is None:
            from minio import Minio

            client = Minio(
                endpoint=server.endpoint,
                access_key=server.access_key,
                secret_key=server.secret_key,
                secure=False,
            )
        log = ServerLog(running.workdir / "log" / "client.rgw.log")
        rows = []
        env = {**os.environ}
        rclone_env = {
            **{k: v for k, v in env.items() if not k.startswith("AWS_")},  # AWS_CA_BUNDLE breaks rclone's S3
            "RCLONE_CONFIG_BENCH_TYPE": "s3",
            "RCLONE_CONFIG_BENCH_PROVIDER": "Ceph",
            "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": server.access_key,
            "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": server.secret_key,
            "RCLONE_CONFIG_BENCH_ENDPOINT": f"http://{server.endpoint}",
            "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE": "true",
            "RCLONE_CONFIG": str(work / "none.conf"),
        }
        contenders = {
            "rclone copy": lambda bucket: [
                rclone, "copy", str(work / "tree"), f"bench:{bucket}", "--transfers", str(WORKERS),
                "--checkers", str(WORKERS), "--s3-upload-cutoff", "16M", "--s3-chunk-size", "16M",
                "--s3-upload-concurrency", "1", "--s3-no-check-bucket",
            ],
            "copy_files_to_minio": lambda bucket: [
                sys.executable, "-c", WORKER, server.endpoint, server.access_key, server.secret_key,
                bucket, str(work / "tree"), str(WORKERS),
            ],
        }  # fmt: skip
        for label, argv in contenders.items():
            bucket = "bench-" + label.split()[0].replace("_", "-")
            create_bucket(client, bucket)
            log.take()
            for run_name in ("first run", "rerun"):
                elapsed, rss, _ = run(argv(bucket), rclone_env if "rclone" in label else env)
                rows.append((label, run_name, elapsed, log.take(), rss))
                print(
                    f"{label:22} {run_name:9} {elapsed:7.2f} s  {fmt(rows[-1][3])}  RSS {rss / 2**20:.0f} MiB"
                )
            for item in client.list_objects(bucket_name=bucket, recursive=True):  # free the memstore
                client.remove_object(bucket_name=bucket, object_name=item.object_name)
            log.take()
        write(rows, files, total, version)
    finally:
        running.stop()
        shutil.rmtree(work, ignore_errors=True)


def write(rows: list, files: int, total: int, version: str) -> None:
    first = {label: elapsed for label, run_name, elapsed, _, _ in rows if run_name == "first run"}
    ratio = first["copy_files_to_minio"] / first["rclone copy"]
    lines = [
        "# copy_files_to_minio against rclone copy",
        "",
        f"Written by `benchmarks/copy_files.py` on {platform.node()} ({os.cpu_count()} cores), Ceph RGW "
        f"(single node, memstore) on loopback; {version}.",
        "",
        f"Tree: {files} files, {total / 2**20:.0f} MiB: {SMALL} files of 1-8 KiB in 100 directories and "
        f"{BIG} of {BIG_MIB} MiB. Concurrency {WORKERS} (`--workers {WORKERS}`; rclone `--transfers "
        f"{WORKERS} --checkers {WORKERS}`), 16 MiB parts for both. Requests counted on the server side "
        "(RGW's access log lines); RSS is each process's peak.",
        "",
        "| tool | run | time (s) | requests (server side) | peak RSS (MiB) |",
        "| --- | --- | ---: | --- | ---: |",
    ]
    for label, run_name, elapsed, kinds, rss in rows:
        lines.append(f"| {label} | {run_name} | {elapsed:.2f} | {fmt(kinds)} | {rss / 2**20:.0f} |")
    rerun_puts = next(
        k for label, run_name, _, k, _ in rows if label == "copy_files_to_minio" and run_name == "rerun"
    )
    lines += [
        "",
        f"First run: copy_files_to_minio took {ratio:.2f}x rclone's time (goal: at most 1.2x). "
        f"Rerun: {rerun_puts.get('PUT', 0) + rerun_puts.get('PUT(part)', 0)} PUTs (goal: none).",
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
