"""One collectstatic run of one contender, in the contender's virtualenv; writes JSON.

    python _collectstatic_worker.py --backend KEY --source DIR --bucket NAME --out FILE

Backends: ``ours`` (this app's command, MINIO_STATIC_UPLOAD_WORKERS from BENCH_WORKERS),
``ours-manifest`` (MinioManifestStaticStorage; BENCH_KEEP_ONLY_HASHED=1 sets
MINIO_STATIC_KEEP_ONLY_HASHED_FILES), ``storages-manifest`` (django-storages'
S3ManifestStaticStorage), ``local-manifest`` (Django's ManifestStaticFilesStorage into
BENCH_STATIC_ROOT on local disk),
``storages`` (django-storages' S3StaticStorage, Django's command) and ``collectfast``
(S3StaticStorage with collectfast's command, COLLECTFAST_THREADS = BENCH_WORKERS, its hash cache
in a file-based Django cache that lasts across runs, as a deploy would keep it).
Requests are counted as in compare.py (_counting); memory is the process's peak RSS during
collectstatic over its RSS just before (the peak is reset through /proc/self/clear_refs).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _counting

REQUESTS = _counting.install()

from _contenders import Server, minio_options, s3_options  # noqa: E402


def rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def configure(backend: str, server: Server, source: str, bucket: str, cache_dir: str) -> None:
    import django
    from django.conf import settings

    workers = int(os.environ.get("BENCH_WORKERS", "8"))
    common = {
        "SECRET_KEY": "benchmarks-only",
        "USE_TZ": True,
        "STATIC_URL": "/static/",
        "STATICFILES_DIRS": [source],
        "CACHES": {
            "default": {  # kept between runs; no entry limit (the default 300 would drop most hashes)
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": cache_dir,
                "TIMEOUT": None,
                "OPTIONS": {"MAX_ENTRIES": 1_000_000},
            }
        },
    }
    if backend == "local-manifest":  # Django's own, to STATIC_ROOT on local disk (rclone copies it)
        settings.configure(
            **common,
            STATIC_ROOT=os.environ["BENCH_STATIC_ROOT"],
            INSTALLED_APPS=["django.contrib.staticfiles"],
            STORAGES={
                "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
            },
        )
    elif backend in ("ours", "ours-manifest"):
        options = {
            **minio_options(server, "ours"),
            "MINIO_STATIC_FILES_BUCKET": bucket,
            "MINIO_STATIC_UPLOAD_WORKERS": workers,
        }
        if os.environ.get("BENCH_KEEP_ONLY_HASHED") == "1":
            options["MINIO_STATIC_KEEP_ONLY_HASHED_FILES"] = True
        static_class = "MinioManifestStaticStorage" if backend == "ours-manifest" else "MinioBackendStatic"
        settings.configure(
            **common,
            INSTALLED_APPS=["django_minio_backend", "django.contrib.staticfiles"],
            STORAGES={
                "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
                "staticfiles": {
                    "BACKEND": f"django_minio_backend.models.{static_class}",
                    "OPTIONS": options,
                },
            },
        )
    else:
        options = {**s3_options(server), "bucket_name": bucket, "querystring_auth": False}
        apps = ["django.contrib.staticfiles", "storages"]
        extra = {}
        if backend == "collectfast":
            apps.insert(0, "collectfast")
            extra = {
                "COLLECTFAST_STRATEGY": "collectfast.strategies.boto3.Boto3Strategy",
                "COLLECTFAST_THREADS": workers,
            }
        # Django 4.2 (collectfast's venv) builds staticfiles_storage without OPTIONS: AWS_* too.
        extra.update(
            AWS_ACCESS_KEY_ID=server.access_key,
            AWS_SECRET_ACCESS_KEY=server.secret_key,
            AWS_S3_ENDPOINT_URL=f"http://{server.endpoint}",
            AWS_S3_REGION_NAME=server.region,
            AWS_S3_ADDRESSING_STYLE="path",
            AWS_S3_SIGNATURE_VERSION="s3v4",
            AWS_DEFAULT_ACL=None,
            AWS_STORAGE_BUCKET_NAME=bucket,
            AWS_QUERYSTRING_AUTH=False,
        )
        settings.configure(
            **common,
            **extra,
            INSTALLED_APPS=apps,
            STORAGES={
                "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
                "staticfiles": {
                    "BACKEND": "storages.backends.s3.S3ManifestStaticStorage"
                    if backend == "storages-manifest"
                    else "storages.backends.s3.S3StaticStorage",
                    "OPTIONS": options,
                },
            },
        )
    django.setup()


def main() -> None:
    # botocore must never look for credentials beyond these (no instance-metadata requests).
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", os.environ["BENCH_ACCESS_KEY"])
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", os.environ["BENCH_SECRET_KEY"])
    parser = argparse.ArgumentParser()
    for name in ("--backend", "--source", "--bucket", "--out", "--cache-dir"):
        parser.add_argument(name, required=True)
    args = parser.parse_args()
    configure(args.backend, Server.from_env(), args.source, args.bucket, args.cache_dir)
    from django.core.management import call_command

    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    before = rss_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    REQUESTS.reset()
    started = time.perf_counter()
    call_command("collectstatic", interactive=False, verbosity=0)
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    result = {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "requests": REQUESTS.breakdown(),
        "total": REQUESTS.count(),
        "rss_before_kib": before,
        "peak_over_kib": rss_kib("VmHWM") - before,
    }
    Path(args.out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
