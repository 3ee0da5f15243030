"""A <video> in headless Chromium plays a private WebM through the streaming view: its media
requests carry Range and get 206 answers. Chromium records the WebM itself (MediaRecorder over a
canvas), so no video file or encoder is shipped."""

from __future__ import annotations

import base64
import os

import pytest
from django.core.files.base import ContentFile

from tests.support import PRIVATE
from tests.support.browser import CHROMIUM_ARGS
from tests.support.serving import served

pytestmark = pytest.mark.browser

RECORD_WEBM = """async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 160; canvas.height = 120;
  const context = canvas.getContext("2d");
  const recorder = new MediaRecorder(canvas.captureStream(25), {mimeType: "video/webm;codecs=vp8"});
  const parts = [];
  recorder.ondataavailable = (event) => parts.push(event.data);
  const stopped = new Promise((resolve) => (recorder.onstop = resolve));
  recorder.start();
  for (let frame = 0; frame < 40; frame++) {
    context.fillStyle = `hsl(${frame * 9}, 80%, 50%)`;
    context.fillRect(0, 0, 160, 120);
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  recorder.stop();
  await stopped;
  const blob = new Blob(parts, {type: "video/webm"});
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}"""

PLAY = """async () => {
  const video = document.getElementById("v");
  if (video.readyState < 2) {
    await new Promise((resolve, reject) => {
      video.addEventListener("loadeddata", resolve, {once: true});
      video.addEventListener("error", () => reject(new Error("media error " + video.error.code)), {once: true});
    });
  }
  await video.play();
  const started = performance.now();
  while (video.currentTime < 0.3 && performance.now() - started < 10000) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const ranged = await fetch(video.currentSrc, {headers: {Range: "bytes=10-19"}});
  return {time: video.currentTime, status: ranged.status, length: (await ranged.arrayBuffer()).byteLength};
}"""


def test_a_video_plays_through_the_streaming_view_with_206_answers(chromium, s3_server, s3_buckets, tmp_path):
    from playwright.sync_api import sync_playwright

    from django_minio_backend.models import MinioBackend

    storage = MinioBackend(bucket_name=PRIVATE, **s3_server.storage_options(MINIO_PRIVATE_BUCKETS=[PRIVATE]))
    name = None
    with served("asgi", s3_server, PRIVATE, tmp_path) as app, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.add_cookies([{"name": "token", "value": "let-me-in", "url": app.base}])
            page = context.new_page()
            page.goto(f"{app.base}/video/none.webm")
            webm = base64.b64decode(page.evaluate(RECORD_WEBM))
            assert webm[:4] == b"\x1a\x45\xdf\xa3"  # an EBML (WebM) header
            name = storage.save(f"browser-{os.getpid()}/clip.webm", ContentFile(webm))
            media = []
            page.on(
                "response",
                lambda r: (
                    media.append((r.status, r.request.headers.get("range"))) if "/stream/" in r.url else None
                ),
            )
            page.goto(f"{app.base}/video/{name}")
            played = page.evaluate(PLAY)
            assert played["time"] > 0, played
            assert (played["status"], played["length"]) == (206, 10)
            assert any(status == 206 and (range_ or "").startswith("bytes=") for status, range_ in media), (
                media
            )
        finally:
            browser.close()
            if name is not None:
                storage.delete(name)
