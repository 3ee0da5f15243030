"""Issue 23's figures: the cost of request events, the checksum cost per GiB, flipped bytes, and
S3 requests per page render with and without the stat cache.

Run: .venv/bin/python benchmarks/observability.py  (starts Ceph RGW when installed, else moto).
Writes benchmarks/results/observability.md. Wagtail, easy-thumbnails and Pillow are used when
installed (pip install wagtail easy-thumbnails); their rows say so when they are not.

- Events: ``urlopen`` of an ObservedPool around a stub pool that answers at once (so only the
  wrapper is timed), with nobody listening, with a ``count_requests()`` recorder, and with the
  DEBUG logger writing to a NullHandler; then a real HEAD on the server for scale.
- Checksums: CPU seconds per GiB of MD5 over memory (what a part held in the part buffer costs),
  of re-reading a file from the page cache (the extra pass over a seekable file), and of a
  multipart upload of a file with and without Content-MD5.
- Flipped bytes: FaultProxy flips one byte of a PUT body or of a GET answer; how many corrupted
  objects were stored and how many corrupted reads were returned, with and without checksums.
- Renders: S3 requests of rendering a page of images (counted by ``count_requests()``), first
  render and the next ones, stat cache off and on.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RESULTS = Path(__file__).resolve().parent / "results" / "observability.md"
PRIVATE = "bench-private"
CALLS = 200_000
GIB = 1024**3
IMAGES = 10
FLIP_ROUNDS = 30
HAVE = {name: importlib.util.find_spec(name) is not None for name in ("wagtail", "easy_thumbnails", "PIL")}


def configure(options: dict) -> None:
    import django
    from django.conf import settings

    apps = ["django.contrib.contenttypes", "django.contrib.auth", "django_minio_backend"]
    if HAVE["wagtail"]:
        apps += ["wagtail.images", "wagtail", "taggit", "modelcluster", "wagtail.users", "wagtail.admin"]
        apps += ["django.contrib.sessions", "django.contrib.messages"]
    if HAVE["easy_thumbnails"]:
        apps.append("easy_thumbnails")
    options = {**options, "MINIO_PRIVATE_BUCKETS": [PRIVATE], "MINIO_DEFAULT_BUCKET": PRIVATE}
    settings.configure(
        SECRET_KEY="benchmarks-only",
        USE_TZ=True,
        INSTALLED_APPS=apps,
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        STORAGES={
            "default": {"BACKEND": "django_minio_backend.models.MinioBackend", "OPTIONS": options},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}],
        WAGTAILIMAGES_IMAGE_MODEL="wagtailimages.Image",
        WAGTAIL_SITE_NAME="bench",
        STATIC_URL="/static/",
        MEDIA_URL="/media/",
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        LOGGING_CONFIG=None,
    )
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, run_syncdb=True)


# -- events ------------------------------------------------------------------------------------


class StubPool:
    """Answers every request at once with a canned 200, so only the wrapper's work is timed."""

    def __init__(self) -> None:
        import urllib3

        self.response = urllib3.HTTPResponse(body=b"", status=200, headers={"Content-Length": "0"})

    def urlopen(self, method, url, **kw):
        return self.response


def per_call_ns(*calls) -> list[float]:
    """Nanoseconds per call of each of ``calls``: the best of 9 rounds, the calls interleaved
    round by round, so that load from other processes hits them alike."""
    best = [float("inf")] * len(calls)
    for _ in range(9):
        for index, call in enumerate(calls):
            start = time.perf_counter_ns()
            for _ in range(CALLS // 4):
                call()
            best[index] = min(best[index], (time.perf_counter_ns() - start) / (CALLS // 4))
    return best


def event_costs(storage, name: str) -> list[tuple[str, str]]:
    from django_minio_backend.core import events
    from django_minio_backend.testing import count_requests

    stub = StubPool()
    pool = events.observed(stub, endpoint="http://127.0.0.1:9")
    url, kw = "http://127.0.0.1:9/bench-private/a/b.txt", {"headers": {"Content-Length": "0"}}
    raw, off = per_call_ns(lambda: stub.urlopen("HEAD", url, **kw), lambda: pool.urlopen("HEAD", url, **kw))
    with count_requests() as made:
        (recorded,) = per_call_ns(lambda: pool.urlopen("HEAD", url, **kw))
        made.clear()
    logger = logging.getLogger("django_minio_backend.requests")
    logger.addHandler(logging.NullHandler())
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        (logged,) = per_call_ns(lambda: pool.urlopen("HEAD", url, **kw))
    finally:
        logger.setLevel(logging.NOTSET)
    heads = []
    for _ in range(300):
        start = time.perf_counter_ns()
        storage.exists(name)
        heads.append((time.perf_counter_ns() - start) / 1000)
    head_us = statistics.median(heads)
    return [
        ("stub pool alone (no wrapper)", f"{raw:.0f} ns"),
        ("events off (nobody listens): wrapper overhead", f"{off - raw:.0f} ns per request"),
        ("events on: a `count_requests()` recorder", f"{recorded - raw:.0f} ns per request"),
        ("events on: DEBUG logger (NullHandler)", f"{logged - raw:.0f} ns per request"),
        ("a real HEAD (`exists()`) on this server, median", f"{head_us:.0f} µs"),
        ("events off, as a share of that HEAD", f"{(off - raw) / (head_us * 1000) * 100:.3f} %"),
    ]


# -- checksums ---------------------------------------------------------------------------------


def cpu_per_gib(work, size: int) -> float:
    start = time.process_time()
    work()
    return (time.process_time() - start) * GIB / size


def checksum_costs(storage_class, name: str) -> list[tuple[str, str]]:
    block = os.urandom(64 * 1024 * 1024)
    view = memoryview(block)

    def md5_memory():
        digest = hashlib.md5(usedforsecurity=False)
        for _ in range(4):
            for start in range(0, len(view), 256 * 1024):
                digest.update(view[start : start + 256 * 1024])

    rows = [("MD5 over memory (a buffered part)", f"{cpu_per_gib(md5_memory, 4 * len(block)):.2f} CPU s/GiB")]
    with tempfile.NamedTemporaryFile() as handle:
        for _ in range(4):
            handle.write(block)
        handle.flush()
        size = 4 * len(block)

        def reread():
            handle.seek(0)
            while handle.read(256 * 1024):
                pass

        reread()  # into the page cache
        rows.append(("re-reading a seekable file (page cache)", f"{cpu_per_gib(reread, size):.2f} CPU s/GiB"))
        for label, capabilities in (("without", {"content-md5": False}), ("with", {})):
            storage = storage_class(
                bucket_name=PRIVATE,
                MINIO_SERVER_CAPABILITIES=capabilities,
                MINIO_CONDITIONAL_WRITES=False,
                replace_existing=True,
            )
            handle.seek(0)
            wall, cpu = time.perf_counter(), time.process_time()
            storage.save(f"{name}/big-{label}.bin", handle)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            rows.append(
                (
                    f"upload of a 256 MiB file {label} Content-MD5 (multipart, 10 MiB parts)",
                    f"{cpu * GIB / size:.2f} CPU s/GiB, {size / wall / 1024**2:.0f} MiB/s wall",
                )
            )
            storage.delete(f"{name}/big-{label}.bin")
    return rows


# -- flipped bytes -----------------------------------------------------------------------------


def flipped_bytes(server, storage_class, name: str) -> list[tuple[str, str, str]]:
    from django.core.files.base import ContentFile

    from django_minio_backend.errors import ChecksumMismatchError, StorageServerError

    from tests.support.faultproxy import FaultProxy

    data = os.urandom(200 * 1024)
    rows = []
    with FaultProxy(server.endpoint) as proxy:
        for label, capabilities in (("on", {}), ("off (control)", {"content-md5": False})):
            storage = storage_class(
                bucket_name=PRIVATE, MINIO_ENDPOINT=proxy.endpoint, MINIO_CONDITIONAL_WRITES=False,
                MINIO_SERVER_CAPABILITIES=capabilities, replace_existing=True,
            )  # fmt: skip
            direct = storage_class(bucket_name=PRIVATE)
            stored_bad = failed = 0
            for number in range(FLIP_ROUNDS):
                proxy.set("flip_request", match=lambda m, t: m == "PUT", times=1, after=number * 6007)
                try:
                    saved = storage.save(f"{name}/flip-{number}.bin", ContentFile(data))
                except StorageServerError:
                    failed += 1
                    continue
                with direct.open(saved) as handle:
                    stored_bad += handle.read() != data
            rows.append(
                (
                    f"upload, checksums {label}",
                    f"{FLIP_ROUNDS} flips",
                    f"{stored_bad} corrupted objects stored, {failed} saves failed",
                )
            )
        reader = storage_class(bucket_name=PRIVATE, MINIO_ENDPOINT=proxy.endpoint)
        saved = storage_class(bucket_name=PRIVATE).save(f"{name}/flip-read.bin", ContentFile(data))
        returned_bad = raised = 0
        for number in range(FLIP_ROUNDS):
            proxy.set("flip_response", match=lambda m, t: m == "GET", times=1, after=number * 6007)
            try:
                with reader.open(saved) as handle:
                    returned_bad += handle.read() != data
            except ChecksumMismatchError:
                raised += 1
        rows.append(
            (
                "whole read, checksums on",
                f"{FLIP_ROUNDS} flips",
                f"{returned_bad} corrupted reads returned, {raised} raised ChecksumMismatchError",
            )
        )
    return rows


# -- renders -----------------------------------------------------------------------------------


def png(number: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (200 + number, 150), (number * 20 % 255, 80, 120)).save(buffer, format="PNG")
    return buffer.getvalue()


def counted(render) -> tuple[str, str]:
    """S3 requests of the first render and of the next one, with the next one's operations."""
    from collections import Counter

    from django_minio_backend.testing import count_requests

    with count_requests() as first:
        render()
    with count_requests() as later:
        render()
    operations = Counter(event.operation for event in later)
    kinds = ", ".join(f"{count} {operation}" for operation, count in sorted(operations.items()))
    return str(len(first)), f"{len(later)}" + (f" ({kinds})" if kinds else "")


def with_stat_cache(enabled: bool):
    from django.core.cache import caches
    from django.core.files.storage import storages
    from django.test import override_settings

    caches["default"].clear()
    options = {**storages.backends["default"]["OPTIONS"], "MINIO_STAT_CACHE": enabled}
    backends = {**storages.backends, "default": {**storages.backends["default"], "OPTIONS": options}}
    return override_settings(STORAGES=backends)


def render_rows(name: str) -> list[tuple[str, str, str, str]]:
    rows = []
    if not HAVE["PIL"]:
        return [("(Pillow not installed)", "", "", "")]
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages
    from django.db.models import ImageField as DjangoImageField
    from django.template import Context, Template

    from django_minio_backend.fields import ImageField

    names = [storages["default"].save(f"{name}/img-{n}.png", ContentFile(png(n))) for n in range(IMAGES)]

    def imagefield_page(field_class):
        def render():
            storage = storages.create_storage(storages.backends["default"])
            field = field_class(storage=storage, upload_to="x")
            field.set_attributes_from_name("image")
            files = [field.attr_class(None, field, n) for n in names]  # new instances: a new request
            Template("{% for f in files %}{{ f.url }} {{ f.width }}x{{ f.height }}{% endfor %}").render(
                Context({"files": files})
            )

        return render

    for label, field_class in (("Django ImageField", DjangoImageField), ("fields.ImageField", ImageField)):
        for cache in (False, True):
            with with_stat_cache(cache):
                first, later = counted(imagefield_page(field_class))
            rows.append(
                (
                    f"{IMAGES} images, `url` + `width`/`height` ({label})",
                    "on" if cache else "off",
                    str(first),
                    str(later),
                )
            )
    if HAVE["easy_thumbnails"]:
        rows += easy_thumbnails_rows(names)
    else:
        rows.append(("easy-thumbnails (not installed)", "", "", ""))
    if HAVE["wagtail"]:
        rows += wagtail_rows(names)
    else:
        rows.append(("Wagtail (not installed)", "", "", ""))
    return rows


def easy_thumbnails_rows(names: list[str]) -> list[tuple[str, str, str, str]]:
    from django.core.files.storage import storages
    from django.template import Context, Template
    from easy_thumbnails.files import get_thumbnailer

    rows = []
    template = Template(
        "{% load thumbnail %}{% for f in files %}{% thumbnail f 80x80 crop as t %}"
        "<img src='{{ t.url }}' width='{{ t.width }}'>{% endfor %}"
    )
    from django.test import override_settings
    from easy_thumbnails.models import Source

    for cache, dimensions in ((False, False), (True, False), (False, True)):
        with with_stat_cache(cache), override_settings(THUMBNAIL_CACHE_DIMENSIONS=dimensions):
            Source.objects.all().delete()

            def render():
                storage = storages.create_storage(storages.backends["default"])
                files = [get_thumbnailer(storage, relative_name=n) for n in names]
                template.render(Context({"files": files}))

            first, later = counted(render)
        page = f"easy-thumbnails: {IMAGES} x `{{% thumbnail %}}` + url + width"
        if dimensions:
            page += " (THUMBNAIL_CACHE_DIMENSIONS = True)"
        rows.append((page, "on" if cache else "off", first, later))
    return rows


def wagtail_rows(names: list[str]) -> list[tuple[str, str, str, str]]:
    from django.core.files.images import ImageFile
    from django.core.files.storage import storages
    from django.template import Context, Template
    from wagtail.images.models import Image, Rendition

    rows = []
    template = Template(
        "{% load wagtailimages_tags %}{% for i in images %}{% image i fill-80x80 %}{% endfor %}"
    )
    for cache in (False, True):
        with with_stat_cache(cache):
            Rendition.objects.all().delete()
            Image.objects.all().delete()
            storage = storages.create_storage(storages.backends["default"])
            for n, stored in enumerate(names):
                with storage.open(stored) as handle:
                    Image.objects.create(
                        title=f"img {n}", file=ImageFile(io.BytesIO(handle.read()), name=f"w-{n}.png")
                    )

            def render():
                template.render(Context({"images": list(Image.objects.all())}))

            first, later = counted(render)
        rows.append(
            (
                f"Wagtail: {IMAGES} x `{{% image fill-80x80 %}}`",
                "on" if cache else "off",
                str(first),
                str(later),
            )
        )
    return rows


# -- report ------------------------------------------------------------------------------------


def table(head: tuple[str, ...], rows: list[tuple]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    return lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


def main() -> None:
    from django_minio_backend.testing import create_bucket, start_server

    with start_server() as running:
        server = running.server
        configure(server.storage_options())
        create_bucket(server.client(), PRIVATE)
        from django.core.files.base import ContentFile

        from django_minio_backend.models import MinioBackend

        name = f"obs-{int(time.time())}"
        storage = MinioBackend(bucket_name=PRIVATE)
        storage.save(f"{name}/head.txt", ContentFile(b"x"))
        events_rows = event_costs(storage, f"{name}/head.txt")
        checksum_rows = checksum_costs(MinioBackend, name)
        flip_rows = flipped_bytes(server, MinioBackend, name)
        renders = render_rows(name)
        storage.delete_prefix(name)
        kind = server.kind
    lines = [
        "# Observability, stat cache and checksums",
        "",
        f"Server: {kind}. Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by "
        "`benchmarks/observability.py` on a 2-core machine shared with other work (load average "
        f"{os.getloadavg()[0]:.1f} at the end). Timings vary with load; request counts do not.",
        "",
        "## Request events",
        "",
        *table(("What", "Cost"), events_rows),
        "",
        "## Checksums",
        "",
        *table(("What", "Cost"), checksum_rows),
        "",
        "## A byte flipped on the way (FaultProxy)",
        "",
        *table(("Case", "Faults", "Result"), flip_rows),
        "",
        "## S3 requests per page render",
        "",
        "First render, then each later render (new model instances, as a new request has).",
        "",
        *table(("Page", "Stat cache", "First render", "Later renders"), renders),
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print(RESULTS.read_text())


if __name__ == "__main__":
    main()
