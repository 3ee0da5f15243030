"""Direct multipart uploads in a real Chromium against the test server: through the admin and a
plain form, a 200 MiB file goes to the bucket in parts (never through Django), failed part PUTs
are retried, and a cancel leaves nothing behind.

The browser reaches the S3 server through the fault proxy (MINIO_EXTERNAL_ENDPOINT), Django talks
to it directly; the bucket gets the CORS rule docs/direct-uploads.md gives.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import time
import uuid

import pytest

from django_minio_backend.models import MinioBackend

from tests.support import keys, pending_uploads
from tests.support.browser import CHROMIUM_ARGS
from tests.support.cors import put_bucket_cors
from tests.support.faultproxy import FaultProxy
from tests.support.serving import fetch
from tests.support.uploads_server import ADMIN_PASSWORD, ADMIN_USER, uploads_server

pytestmark = [pytest.mark.browser, pytest.mark.s3_needs("cors")]

MiB = 1024 * 1024
BIG = 200 * MiB
SAVED = re.compile(r"/saved/\d+/$")
UPLOAD_TIMEOUT_MS = int(os.environ.get("UPLOAD_TIMEOUT_MS", "300000"))


def write_random_file(path, size: int) -> str:
    """Write ``size`` random bytes to ``path`` 1 MiB at a time; their sha256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(size // MiB):
            chunk = os.urandom(MiB)
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def site(s3_server, tmp_path_factory):
    """The uploads project on waitress, a bucket with the documented CORS rule, and the proxy."""
    bucket = f"direct-{uuid.uuid4().hex[:10]}"
    s3_server.client().make_bucket(bucket_name=bucket)
    workdir = tmp_path_factory.mktemp("uploads")
    with FaultProxy(s3_server.endpoint) as proxy, uploads_server(
        s3_server, bucket, workdir, external=proxy.endpoint
    ) as server:  # fmt: skip
        storage = MinioBackend(
            bucket_name=bucket, **s3_server.storage_options(MINIO_PRIVATE_BUCKETS=[bucket])
        )
        put_bucket_cors(storage, server.base)
        yield server, proxy, storage, workdir / "uploads.sqlite3"


@pytest.fixture
def page(chromium, site, tmp_path):
    from playwright.sync_api import sync_playwright

    server = site[0]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{server.base}/admin/login/?next=/admin/")
            page.fill("#id_username", ADMIN_USER)
            page.fill("#id_password", ADMIN_PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url(f"{server.base}/admin/")
            yield page
        finally:
            browser.close()


@pytest.fixture
def big_file(tmp_path):
    path = tmp_path / "big.bin"
    digest = write_random_file(path, BIG)
    try:
        yield path, digest
    finally:
        path.unlink(missing_ok=True)


DEBUG = """() => { const root = document.querySelector('.dmb-direct-upload');
  if (!root) return location.href + " " + document.body.innerText.slice(0, 3000);
  const u = root.directUpload;
  return {state: u.state, status: u.status.textContent, done: [...u.done], retries: u.root.dataset.retries,
          requests: u.requests.size}; }"""


def wait_uploaded(page) -> None:
    ended = ".dmb-direct-upload[data-state=done], .dmb-direct-upload[data-state=failed]"
    try:
        page.wait_for_selector(ended, timeout=UPLOAD_TIMEOUT_MS)
    except Exception:
        raise AssertionError(page.evaluate(DEBUG)) from None
    assert page.get_attribute(".dmb-direct-upload", "data-state") == "done", page.inner_text(".dmb-status")


def saved_name(db, title: str) -> str:
    with sqlite3.connect(db) as connection:
        row = connection.execute(
            "SELECT file FROM uploads_project_attachment WHERE title = ?", (title,)
        ).fetchone()
    assert row, f"no row titled {title!r}"
    return row[0]


def check_stored(storage, name: str, digest: str) -> None:
    status, _, sha, length = fetch(storage.url(name))  # the object's (presigned) URL, streamed
    assert (status, length, sha) == (200, BIG, digest)


def test_admin_uploads_200_mib_in_parts_straight_to_the_bucket(page, site, big_file, s3_server):
    server, proxy, storage, db = site
    path, digest = big_file
    before = server.stats()
    proxy.requests.clear()
    page.goto(f"{server.base}/admin/uploads_project/attachment/add/")
    page.fill("#id_title", "admin big")
    page.set_input_files("#id_file", str(path))
    wait_uploaded(page)
    page.click("input[name=_save]")
    page.wait_for_url(f"{server.base}/admin/uploads_project/attachment/")
    name = saved_name(db, "admin big")
    assert name.startswith("big/") and name.endswith(".bin")
    check_stored(storage, name, digest)
    after = server.stats()
    parts = [target for method, target in proxy.requests if method == "PUT" and "partNumber=" in target]
    assert len(parts) == 25  # 8 MiB parts, each sent once
    # Django received the form and the JSON messages, none of the file's bytes, and did not grow.
    assert after["body_bytes"] - before["body_bytes"] < 64 * 1024
    assert after["largest_body"] < 16 * 1024
    assert after["peak_rss"] - before["peak_rss"] < 32 * MiB
    assert pending_uploads(s3_server, "big/", bucket=storage.bucket) == []


def test_plain_form_retries_failed_parts_and_saves_the_row(page, site, big_file):
    server, proxy, storage, db = site
    path, digest = big_file
    proxy.set(
        "status",
        status=503,
        times=3,
        match=lambda method, target: method == "PUT" and "partNumber=" in target,
    )
    page.goto(f"{server.base}/form/")
    page.fill("#id_title", "form big")
    page.set_input_files("#id_file", str(path))
    page.click("#upload button[type=submit]")  # the form is sent when the upload is done
    try:
        page.wait_for_url(SAVED, timeout=UPLOAD_TIMEOUT_MS)
    except Exception:
        raise AssertionError(page.evaluate(DEBUG)) from None
    assert len(proxy.faulted) == 3
    name = saved_name(db, "form big")
    assert page.get_attribute("#file", "href").startswith(f"http://{proxy.endpoint}/{storage.bucket}/{name}?")
    check_stored(storage, name, digest)
    proxy.clear()


def test_a_small_file_goes_in_one_put(page, site, tmp_path):
    server, proxy, storage, db = site
    (tmp_path / "small.txt").write_bytes(b"one presigned PUT\n")
    proxy.requests.clear()
    page.goto(f"{server.base}/form/")
    page.fill("#id_title", "small")
    page.set_input_files("#id_file", str(tmp_path / "small.txt"))
    wait_uploaded(page)
    page.click("#upload button[type=submit]")
    page.wait_for_url(SAVED)
    name = saved_name(db, "small")
    assert storage.open(name).read() == b"one presigned PUT\n"
    assert [m for m, t in proxy.requests if m in ("PUT", "POST")] == ["PUT"]


def test_cancel_aborts_and_leaves_nothing(page, site, tmp_path, s3_server):
    server, proxy, storage, _ = site
    path = tmp_path / "cancelled.bin"
    write_random_file(path, 64 * MiB)
    try:
        proxy.set(
            "delay", seconds=2.0, match=lambda method, target: method == "PUT" and "partNumber=" in target
        )
        page.goto(f"{server.base}/form/")
        page.fill("#id_title", "cancelled")
        page.set_input_files("#id_file", str(path))
        page.wait_for_function("() => document.querySelector('.dmb-direct-upload').directUpload.ticket")
        page.click(".dmb-cancel")
        page.wait_for_selector(".dmb-direct-upload[data-state=cancelled]")
        proxy.clear()
        assert pending_uploads(s3_server, "big/cancelled", bucket=storage.bucket) == []
        assert [
            k for k in keys(s3_server, storage.bucket) if k.startswith("big/cancelled")
        ] == []  # claims too
        assert page.input_value("input.dmb-value") == ""
    finally:
        proxy.clear()
        path.unlink(missing_ok=True)


def test_leaving_the_page_aborts_the_upload(page, site, tmp_path, s3_server):
    server, proxy, storage, _ = site
    path = tmp_path / "abandoned.bin"
    write_random_file(path, 64 * MiB)
    try:
        proxy.set(
            "delay", seconds=2.0, match=lambda method, target: method == "PUT" and "partNumber=" in target
        )
        page.goto(f"{server.base}/form/")
        page.set_input_files("#id_file", str(path))
        page.wait_for_function("() => document.querySelector('.dmb-direct-upload').directUpload.ticket")
        assert pending_uploads(s3_server, "big/abandoned", bucket=storage.bucket) != []
        page.goto(f"{server.base}/stats/")  # pagehide: the script sends the abort with sendBeacon
        deadline = time.monotonic() + 20
        while (
            pending_uploads(s3_server, "big/abandoned", bucket=storage.bucket) and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        assert pending_uploads(s3_server, "big/abandoned", bucket=storage.bucket) == []
        assert [k for k in keys(s3_server, storage.bucket) if k.startswith("big/abandoned")] == []
    finally:
        proxy.clear()
        path.unlink(missing_ok=True)
