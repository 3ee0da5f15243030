"""Counts what Django receives: requests, and the bytes of their bodies (from the WSGI input)."""

import threading
from pathlib import Path

LOCK = threading.Lock()
COUNTS = {"requests": 0, "body_bytes": 0, "largest_body": 0}


def peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


class CountingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        size = int(request.META.get("CONTENT_LENGTH") or 0)
        with LOCK:
            COUNTS["requests"] += 1
            COUNTS["body_bytes"] += size
            COUNTS["largest_body"] = max(COUNTS["largest_body"], size)
        return self.get_response(request)
