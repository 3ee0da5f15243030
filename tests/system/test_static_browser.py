"""Gzipped static files in a real Chromium: the CSS applies and the JS runs."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from django_minio_backend.models import MinioBackendStatic

from tests.support.browser import CHROMIUM_ARGS

pytestmark = pytest.mark.browser

PAD = "/* padding so that gzip is smaller */\n" * 30
CSS = "#probe { color: rgb(1, 128, 3); width: 123px; }\n" + PAD
JS = "window.gzippedScriptRan = 'yes'; document.getElementById('probe').textContent = 'js ran';\n" + PAD
HTML = (
    "<!doctype html><html><head><link rel='stylesheet' href='css/probe.css'></head>"
    "<body><div id='probe'>waiting</div><script src='js/probe.js'></script></body></html>\n"
)


def test_gzipped_css_applies_and_gzipped_js_runs_in_chromium(
    chromium, minio_settings, static_bucket, tmp_path
):
    from playwright.sync_api import sync_playwright

    storage = MinioBackendStatic(storage_name="staticfiles", MINIO_STATIC_FILES_BUCKET=static_bucket)
    with storage.collecting():
        storage.save("css/probe.css", ContentFile(CSS.encode()))
        storage.save("js/probe.js", ContentFile(JS.encode()))
        storage.save("page.html", ContentFile(HTML.encode()))
    for name in ("css/probe.css", "js/probe.js"):
        assert storage.stat(name).metadata.get("Content-Encoding") == "gzip"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            encodings = {}
            page.on("response", lambda r: encodings.update({r.url.rsplit("/", 1)[-1]: r.headers}))
            page.goto(storage.url("page.html"))
            page.wait_for_function("window.gzippedScriptRan === 'yes'", timeout=10_000)
            assert page.text_content("#probe") == "js ran"
            color = page.eval_on_selector("#probe", "e => getComputedStyle(e).color")
            width = page.eval_on_selector("#probe", "e => getComputedStyle(e).width")
            assert (color, width) == ("rgb(1, 128, 3)", "123px")
            assert encodings["probe.css"].get("content-encoding") == "gzip"
            assert encodings["probe.js"].get("content-encoding") == "gzip"
        finally:
            browser.close()
