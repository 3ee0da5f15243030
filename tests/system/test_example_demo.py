"""``make demo``'s script with no server configured: it brings its own S3 server and stops it on Ctrl-C."""

from __future__ import annotations

import json
import re
import urllib.request

from django_minio_backend.testing._process import pid_alive

from tests.support.demo_process import DemoProcess


def test_run_demo_serves_seeded_gallery_and_ctrl_c_stops_its_s3_server(tmp_path):
    process = DemoProcess(tmp_path, env={})
    try:
        process.wait_until_serving()
        with urllib.request.urlopen(process.url, timeout=10) as response:
            page = response.read().decode()
        with urllib.request.urlopen(process.url + "health/", timeout=10) as response:
            health = json.load(response)
        # A seeded public image, fetched anonymously from the embedded server.
        image_urls = re.findall(r'<img src="(http://127\.0\.0\.1:\d+/demo-images/images/[^"]+\.png)"', page)
        assert image_urls, page
        with urllib.request.urlopen(image_urls[0], timeout=10) as response:
            assert response.read(8) == b"\x89PNG\r\n\x1a\n"
        output = process.output()
        s3_pid = int(re.search(r"embedded S3 server \(moto\) at \S+, pid (\d+)", output).group(1))
        assert pid_alive(s3_pid)
    finally:
        returncode = process.interrupt()

    assert f"http://127.0.0.1:{process.port}/" in output
    assert "admin login: admin / admin" in output
    assert health["minio"] is True
    assert returncode == 0
    assert not pid_alive(s3_pid), "Ctrl-C must stop the embedded S3 server too"
    assert f"stopped the embedded S3 server (pid {s3_pid})" in process.output()
