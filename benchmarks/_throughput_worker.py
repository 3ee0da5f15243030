"""One big upload from disk, in a fresh process: wall time, peak RSS over pre-op, requests.

    python _throughput_worker.py --contender ours|storages|fput --file PATH --name KEY \
        --part-mib 8 --parallel 4

The server and bucket come from BENCH_ENDPOINT, BENCH_ACCESS_KEY, BENCH_SECRET_KEY,
BENCH_REGION and BENCH_BUCKET (benchmarks/throughput.py sets them). Requests are counted by
benchmarks/_counting.py (urllib3's pool ``urlopen``, which minio-py and botocore both use). The
peak is reset (``/proc/self/clear_refs``) after the client is built and one request was sent,
so the figure is what the upload itself added. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _counting import install  # noqa: E402

LOG = install()
MiB = 1024 * 1024


def status(field: str) -> int:
    """A /proc/self/status figure in KiB (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def env(key: str) -> str:
    return os.environ[key]


def ours(args: argparse.Namespace):
    import django
    from django.conf import settings

    settings.configure(INSTALLED_APPS=[], USE_TZ=True, STORAGES={})
    django.setup()
    from django.core.files import File

    from django_minio_backend.models import MinioBackend

    options = {
        "MINIO_ENDPOINT": env("BENCH_ENDPOINT"),
        "MINIO_ACCESS_KEY": env("BENCH_ACCESS_KEY"),
        "MINIO_SECRET_KEY": env("BENCH_SECRET_KEY"),
        "MINIO_REGION": env("BENCH_REGION"),
        "MINIO_USE_HTTPS": False,
        "MINIO_PRIVATE_BUCKETS": [env("BENCH_BUCKET")],
        "MINIO_CONSISTENCY_CHECK_ON_START": False,
        "MINIO_MULTIPART_UPLOAD": True,
        "MINIO_MULTIPART_PART_SIZE": args.part_mib * MiB,
        "MINIO_MULTIPART_THRESHOLD": args.part_mib * MiB,
    }
    storage = MinioBackend(bucket_name=env("BENCH_BUCKET"), num_parallel_uploads=args.parallel, **options)
    storage.exists(args.name + ".warm")

    def upload() -> str:
        with open(args.file, "rb") as handle:
            return storage.save(args.name, File(handle, name=args.name))

    return upload, lambda: storage.size(args.name)


def storages(args: argparse.Namespace):
    import django
    from django.conf import settings

    settings.configure(INSTALLED_APPS=[], USE_TZ=True, STORAGES={})
    django.setup()
    from boto3.s3.transfer import TransferConfig
    from django.core.files import File
    from storages.backends.s3 import S3Storage

    config = TransferConfig(
        multipart_threshold=args.part_mib * MiB,
        multipart_chunksize=args.part_mib * MiB,
        max_concurrency=args.parallel,
    )
    storage = S3Storage(
        access_key=env("BENCH_ACCESS_KEY"),
        secret_key=env("BENCH_SECRET_KEY"),
        endpoint_url=f"http://{env('BENCH_ENDPOINT')}",
        region_name=env("BENCH_REGION"),
        addressing_style="path",
        signature_version="s3v4",
        default_acl=None,
        bucket_name=env("BENCH_BUCKET"),
        file_overwrite=False,
        transfer_config=config,
    )
    storage.exists(args.name + ".warm")

    def upload() -> str:
        with open(args.file, "rb") as handle:
            return storage.save(args.name, File(handle, name=args.name))

    return upload, lambda: storage.size(args.name)


def fput(args: argparse.Namespace):
    from minio import Minio

    client = Minio(
        endpoint=env("BENCH_ENDPOINT"),
        access_key=env("BENCH_ACCESS_KEY"),
        secret_key=env("BENCH_SECRET_KEY"),
        region=env("BENCH_REGION"),
        secure=False,
    )
    bucket = env("BENCH_BUCKET")
    client.bucket_exists(bucket_name=bucket)

    def upload() -> str:
        client.fput_object(
            bucket_name=bucket,
            object_name=args.name,
            file_path=args.file,
            part_size=args.part_mib * MiB,
            num_parallel_uploads=args.parallel,
        )
        return args.name

    return upload, lambda: client.stat_object(bucket_name=bucket, object_name=args.name).size


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contender", required=True, choices=("ours", "storages", "fput"))
    parser.add_argument("--file", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--part-mib", type=int, default=8)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()
    upload, size_of = {"ours": ours, "storages": storages, "fput": fput}[args.contender](args)
    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) restarts from the current RSS
    before = status("VmRSS")
    LOG.reset()
    started = time.perf_counter()
    saved = upload()
    seconds = time.perf_counter() - started
    peak = status("VmHWM")
    requests, breakdown = LOG.count(), LOG.breakdown()
    size = size_of()
    expected = os.path.getsize(args.file)
    print(
        json.dumps(
            {
                "contender": args.contender,
                "seconds": seconds,
                "mib_per_s": expected / MiB / seconds,
                "rss_before_mib": before / 1024,
                "peak_increase_mib": (peak - before) / 1024,
                "requests": requests,
                "breakdown": breakdown,
                "error": None if size == expected and saved == args.name else f"stored {size} as {saved}",
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
