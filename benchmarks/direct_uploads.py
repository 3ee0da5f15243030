"""Direct browser uploads: requests per upload on each side, time, Django's memory and received bytes.

A headless Chromium uploads a 200 MiB file through the DirectUploadWidget of
tests/system/uploads_project (waitress, one process) to the S3 server, in 8 MiB parts, 4 at once.
Counted run: the browser's and Django's S3 traffic each go through a counting proxy
(tests/support/faultproxy.py, no faults), and Django's own middleware counts the requests and body
bytes it receives. Timed runs: no proxies; the same file is also sent with ``curl -T`` to a
presigned PUT URL on the same server. Writes benchmarks/results/direct_uploads.md.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

MiB = 1024 * 1024
SIZE = 200 * MiB
RUNS = 3
RESULTS = ROOT / "benchmarks" / "results" / "direct_uploads.md"


def write_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(SIZE // MiB):
            chunk = os.urandom(MiB)
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def kind_of(method: str, target: str) -> str:
    if "partNumber=" in target:
        return f"{method} UploadPart"
    if "uploadId=" in target:
        return {"POST": "POST Complete", "GET": "GET ListParts", "DELETE": "DELETE Abort"}.get(method, method)
    if target.split("?")[1:] and "uploads" in target.split("?")[1]:
        return f"{method} CreateMultipartUpload" if method == "POST" else f"{method} ?uploads"
    return f"{method} object/bucket"


def browser_upload(chromium: str, base: str, path: Path, title: str) -> float:
    """Log in, upload ``path`` through the plain form, save; the seconds from choosing the file to done."""
    from playwright.sync_api import sync_playwright

    from tests.support.browser import CHROMIUM_ARGS
    from tests.support.uploads_server import ADMIN_PASSWORD, ADMIN_USER

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/admin/login/?next=/form/")
            page.fill("#id_username", ADMIN_USER)
            page.fill("#id_password", ADMIN_PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url(f"{base}/form/")
            page.fill("#id_title", title)
            started = time.perf_counter()
            page.set_input_files("#id_file", str(path))
            page.wait_for_selector(".dmb-direct-upload[data-state=done]", timeout=600_000)
            seconds = time.perf_counter() - started
            page.click("#upload button[type=submit]")
            page.wait_for_url(f"{base}/saved/**")
            return seconds
        finally:
            browser.close()


def site(server, bucket: str, workdir: Path, *, external: str | None, endpoint_proxy=None):
    from tests.support.uploads_server import uploads_server

    seen = dataclasses.replace(server, endpoint=endpoint_proxy.endpoint) if endpoint_proxy else server
    return uploads_server(seen, bucket, workdir, external=external)


def counted_run(server, bucket, storage, chromium, path, workdir) -> dict:
    from tests.support.cors import put_bucket_cors
    from tests.support.faultproxy import FaultProxy

    with (
        FaultProxy(server.endpoint) as browser_side,
        FaultProxy(server.endpoint) as django_side,
        site(
            server, bucket, workdir / "counted", external=browser_side.endpoint, endpoint_proxy=django_side
        ) as running,
    ):
        put_bucket_cors(storage, running.base)
        runs = []
        for label in ("first", "second"):
            before = running.stats()
            browser_side.requests.clear()
            django_side.requests.clear()
            browser_upload(chromium, running.base, path, f"counted {label}")
            after = running.stats()
            runs.append(
                {
                    "browser": collections.Counter(kind_of(m, t) for m, t in browser_side.requests),
                    "django_s3": collections.Counter(kind_of(m, t) for m, t in django_side.requests),
                    "django_requests": after["requests"] - before["requests"],
                    "django_body_bytes": after["body_bytes"] - before["body_bytes"],
                    "largest_body": after["largest_body"],
                }
            )
    return runs


def timed_runs(server, bucket, storage, chromium, path, workdir) -> dict:
    from tests.support.cors import put_bucket_cors

    widget, curl = [], []
    with site(server, bucket, workdir / "timed", external=None) as running:
        put_bucket_cors(storage, running.base)
        rss_before = running.stats()["peak_rss"]
        for run in range(RUNS):
            widget.append(browser_upload(chromium, running.base, path, f"timed {run}"))
            url = storage.store.presigned_put(storage.store.key(f"curl/{uuid.uuid4().hex}.bin"),
                                              expires=timedelta(hours=1))  # fmt: skip
            started = time.perf_counter()
            subprocess.run(["curl", "-sS", "--fail", "-o", "/dev/null", "-T", str(path), url], check=True)
            curl.append(time.perf_counter() - started)
        rss_after = running.stats()["peak_rss"]
    return {"widget": widget, "curl": curl, "rss_before": rss_before, "rss_after": rss_after}


def report(server, runs: list[dict], timed: dict) -> str:
    counted, first = runs[1], runs[0]

    def table(counter: collections.Counter) -> list[str]:
        return [f"| {kind} | {count} |" for kind, count in sorted(counter.items())] + [
            f"| **total** | **{sum(counter.values())}** |"
        ]

    widget, curl = statistics.median(timed["widget"]), statistics.median(timed["curl"])
    return "\n".join(
        [
            "# Direct browser uploads (DirectUploadWidget)",
            "",
            f"Server: {server.kind}. Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
            f"`benchmarks/direct_uploads.py`: headless Chromium uploads one {SIZE // MiB} MiB file through "
            "the widget of `tests/system/uploads_project` (waitress, one process), 8 MiB parts, 4 at once, "
            f"on a 2-core machine that also runs the S3 server, Django and the browser (load average "
            f"{os.getloadavg()[0]:.1f} at the end): times are indicative.",
            "",
            "## Requests per upload (counted run, through counting proxies)",
            "",
            "The second upload of the process is shown (the first differs only on the Django-to-S3 side, "
            "below).",
            "",
            f"Django received **{counted['django_requests']} requests** for the upload (login page and "
            f"post, the form page, the start and complete JSON calls, the form post, the saved page), "
            f"**{counted['django_body_bytes']:,} body bytes** in all, the largest body "
            f"{counted['largest_body']:,} bytes: **0 bytes of the {SIZE:,}-byte file**.",
            "",
            "Browser to S3 (part URLs are signed by Django locally: 0 requests per part; OPTIONS are the CORS "
            "preflights, one per part because each part URL differs):",
            "",
            "| request | count |",
            "|---|---|",
            *table(counted["browser"]),
            "",
            "Django to S3: start (claim the name with a small conditional PUT, because RGW ignores "
            "If-None-Match on CompleteMultipartUpload; CreateMultipartUpload), complete (ListParts, HEAD "
            "the claim, Complete, HEAD to check the size), and the form's check of the value (HEAD). The "
            "file has the name of the first upload's, so its first claim is refused (412) and the next "
            "name (Django's random suffix) is claimed: 2 PUTs, where a free name takes 1:",
            "",
            "| request | count |",
            "|---|---|",
            *table(counted["django_s3"]),
            "",
            f"The first upload of the process made {sum(first['django_s3'].values())} Django-to-S3 requests: "
            "the above plus the one-time probes of conditional PUT and CompleteMultipartUpload "
            f"({', '.join(f'{k} {v}' for k, v in sorted(first['django_s3'].items()))}).",
            "",
            f"## Time for {SIZE // MiB} MiB (median of {RUNS}, no proxies)",
            "",
            "| upload | seconds (median) | runs | MiB/s |",
            "|---|---|---|---|",
            f"| widget, choose file to signed value | {widget:.2f} | "
            f"{', '.join(f'{s:.2f}' for s in timed['widget'])} | {SIZE / MiB / widget:.0f} |",
            f"| `curl -T` to a presigned PUT URL | {curl:.2f} | "
            f"{', '.join(f'{s:.2f}' for s in timed['curl'])} | {SIZE / MiB / curl:.0f} |",
            "",
            "## Django's memory",
            "",
            f"Peak RSS (VmHWM) of the Django process: {timed['rss_before'] / MiB:.0f} MiB after start and "
            f"log-in, {timed['rss_after'] / MiB:.0f} MiB after {RUNS} uploads of {SIZE // MiB} MiB "
            f"(growth {(timed['rss_after'] - timed['rss_before']) / MiB:.1f} MiB).",
            "",
        ]
    )


def main() -> None:
    import django

    django.setup()
    from django_minio_backend.models import MinioBackend
    from django_minio_backend.testing import start_server

    from tests.support.browser import CHROMIUM

    workdir = Path(tempfile.mkdtemp(prefix="direct-uploads-"))
    try:
        path = workdir / "upload.bin"
        write_file(path)
        with start_server() as running:
            server = running.server
            bucket = f"bench-direct-{uuid.uuid4().hex[:8]}"
            server.client().make_bucket(bucket_name=bucket)
            storage = MinioBackend(
                bucket_name=bucket, **server.storage_options(MINIO_PRIVATE_BUCKETS=[bucket])
            )
            runs = counted_run(server, bucket, storage, CHROMIUM, path, workdir)
            timed = timed_runs(server, bucket, storage, CHROMIUM, path, workdir)
        RESULTS.write_text(report(server, runs, timed))
        print(RESULTS.read_text())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
