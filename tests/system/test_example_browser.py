"""The example project in a real Chromium: log in, upload, see the image, open a presigned link."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

import pytest
from PIL import Image

from django_minio_backend.models import MinioBackend

from tests.support import ROOT
from tests.support.browser import CHROMIUM_ARGS
from tests.support.cors import put_bucket_cors
from tests.support.demo_process import DemoProcess

pytestmark = pytest.mark.browser


def artifacts_dir() -> Path:
    path = Path(os.environ.get("TEST_ARTIFACTS") or ROOT / "test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def demo(s3_server, tmp_path_factory):
    """The example project served by run_demo.py against the test S3 server."""
    workdir = tmp_path_factory.mktemp("demo")
    suffix = uuid.uuid4().hex[:8]
    env = {
        "MINIO_ENDPOINT": s3_server.endpoint,
        "MINIO_ACCESS_KEY": s3_server.access_key,
        "MINIO_SECRET_KEY": s3_server.secret_key,
        "MINIO_REGION": s3_server.region,
        "MINIO_USE_HTTPS": "true" if s3_server.use_https else "false",
        "DJANGO_DB_PATH": str(workdir / "demo.sqlite3"),
        "DEMO_PRIVATE_BUCKET": f"demo-private-{suffix}",
        "DEMO_PUBLIC_BUCKET": f"demo-public-{suffix}",
        "DEMO_IMAGES_BUCKET": f"demo-images-{suffix}",
        "DEMO_STATIC_BUCKET": f"demo-static-{suffix}",
        "DEMO_ADMIN_USER": "browser",
        "DEMO_ADMIN_PASSWORD": "browser-pass-1",
    }
    process = DemoProcess(workdir, env)
    try:
        process.wait_until_serving()
        if s3_server.supports("cors"):
            images = MinioBackend(
                bucket_name=env["DEMO_IMAGES_BUCKET"],
                **s3_server.storage_options(MINIO_PUBLIC_BUCKETS=[env["DEMO_IMAGES_BUCKET"]]),
            )
            put_bucket_cors(images, process.url.rstrip("/"))
        yield process, env
    finally:
        process.interrupt()


def png_bytes(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, format="PNG")
    return out.getvalue()


def test_gallery_upload_and_private_link_in_chromium(chromium, demo, s3_server, tmp_path):
    from playwright.sync_api import sync_playwright

    process, env = demo
    private_bytes = f"private bytes {uuid.uuid4().hex}\n".encode()
    (tmp_path / "upload.png").write_bytes(png_bytes((40, 120, 200)))
    (tmp_path / "secret.txt").write_bytes(private_bytes)

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh --user-data-dir
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1100, "height": 900},
        )
        try:
            page = context.new_page()
            static_url = f"{s3_server.url}/{env['DEMO_STATIC_BUCKET']}/"
            static_loaded = []
            page.on(
                "response", lambda r: r.url.startswith(static_url) and static_loaded.append((r.url, r.status))
            )
            page.goto(process.url)
            # The seeded images load from the public bucket before anyone logs in.
            page.wait_for_function(
                "[...document.images].length >= 3 && [...document.images].every(i => i.complete)"
            )
            assert page.eval_on_selector_all("img", "imgs => imgs.every(i => i.naturalWidth > 0)")

            page.click("#login")
            page.fill("#id_username", env["DEMO_ADMIN_USER"])
            page.fill("#id_password", env["DEMO_ADMIN_PASSWORD"])
            page.click("input[type=submit]")
            page.wait_for_selector("#upload")
            # collectstatic put the admin's and the gallery's CSS in the public static bucket.
            loaded = {url.removeprefix(static_url): status for url, status in static_loaded}
            assert loaded.get("gallery/style.css") == 200, loaded
            assert loaded.get("admin/css/base.css") == 200, loaded

            page.select_option("#id_kind", "image")
            page.fill("#id_title", "Browser upload")
            page.set_input_files("#id_file", str(tmp_path / "upload.png"))
            page.click("#upload button[type=submit]")
            image = page.wait_for_selector("img[alt='Browser upload']")
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image)
            assert image.evaluate("img => img.naturalWidth") == 64
            src = image.get_attribute("src")
            assert src.startswith(f"{s3_server.url}/{env['DEMO_IMAGES_BUCKET']}/images/")
            assert "X-Amz-Signature" not in src  # public: a plain URL

            page.select_option("#id_kind", "private")
            page.fill("#id_title", "Browser secret")
            page.set_input_files("#id_file", str(tmp_path / "secret.txt"))
            page.click("#upload button[type=submit]")
            link = page.wait_for_selector("a.private-file:text('Browser secret')")
            href = link.get_attribute("href")
            assert href.startswith(f"{s3_server.url}/{env['DEMO_PRIVATE_BUCKET']}/")
            assert "X-Amz-Signature=" in href

            # Direct browser upload through the DirectUploadWidget: the file goes to the bucket (the
            # documented CORS rule allows the demo's origin), Django checks the signed value and
            # saves the row.
            (tmp_path / "direct.png").write_bytes(png_bytes((220, 140, 30)))
            page.click("#direct-link")
            page.fill("#id_title", "Straight to the bucket")
            page.set_input_files("#id_image", str(tmp_path / "direct.png"))
            page.wait_for_selector(".dmb-direct-upload[data-state=done]")
            page.click("#direct button[type=submit]")
            direct = page.wait_for_selector("img[alt='Straight to the bucket']")
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=direct)
            assert direct.evaluate("img => img.naturalWidth") == 64
            assert direct.get_attribute("src").startswith(
                f"{s3_server.url}/{env['DEMO_IMAGES_BUCKET']}/images/"
            )

            page.screenshot(path=str(artifacts_dir() / "example-gallery.png"), full_page=True)

            response = page.goto(href)
            assert response.status == 200
            assert response.body() == private_bytes
            if s3_server.strict:
                unsigned = context.request.get(href.split("?", 1)[0])
                assert unsigned.status == 403, "a private object must not be readable without a signature"

            health = context.request.get(process.url + "health/")
            assert health.status == 200 and health.json()["minio"] is True
        finally:
            context.close()
