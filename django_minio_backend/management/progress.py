"""Progress of a long command: one line redrawn on a terminal, plain periodic lines in a log.

On a terminal the line (files done/total, bytes, rate, ETA) is redrawn in place at most every
``redraw`` seconds; otherwise a plain line is written at most every ``interval`` seconds, so a
deploy log shows the work is moving without filling up. Verbosity 0 writes nothing. Updates are
thread-safe (the copy's worker threads report into one Progress).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def human_bytes(count: float) -> str:
    for unit in UNITS:
        if abs(count) < 1024 or unit == UNITS[-1]:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def human_seconds(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    """Counts done files and bytes of ``label`` and shows them on ``stream`` (see the module doc)."""

    def __init__(
        self,
        stream: Any,
        label: str,
        *,
        total: int | None = None,
        total_bytes: int | None = None,
        verbosity: int = 1,
        interval: float = 10.0,
        redraw: float = 0.2,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.label = label
        self.total = total
        self.total_bytes = total_bytes
        self.enabled = verbosity > 0
        self.tty = _isatty(stream) if tty is None else tty
        self.every = redraw if self.tty else interval
        self.clock = clock
        self.started = self.last = clock()
        self.done = 0
        self.bytes = 0
        self._lock = threading.Lock()
        self._drawn = False

    def add(self, files: int = 1, nbytes: int = 0) -> None:
        with self._lock:
            self.done += files
            self.bytes += nbytes
            now = self.clock()
            if self.enabled and now - self.last >= self.every:
                self.last = now
                self._show(self.line(now))

    def line(self, now: float | None = None) -> str:
        """``label: 120/1000 files, 3.0 MiB/40.0 MiB, 1.5 MiB/s, ETA 25s``."""
        elapsed = max((self.clock() if now is None else now) - self.started, 1e-6)
        files = f"{self.done}/{self.total}" if self.total is not None else f"{self.done}"
        size = human_bytes(self.bytes)
        if self.total_bytes is not None:
            size += f"/{human_bytes(self.total_bytes)}"
        text = f"{self.label}: {files} files, {size}, {human_bytes(self.bytes / elapsed)}/s"
        eta = self._eta(elapsed)
        return text + (f", ETA {human_seconds(eta)}" if eta is not None else "")

    def _eta(self, elapsed: float) -> float | None:
        if self.total_bytes and self.bytes:
            return max(self.total_bytes - self.bytes, 0) * elapsed / self.bytes
        if self.total and self.done:
            return max(self.total - self.done, 0) * elapsed / self.done
        return None

    def _show(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K" + text, ending="")
            self._drawn = True
        else:
            self.stream.write(text)
        flush = getattr(self.stream, "flush", None)
        if flush is not None:
            flush()

    def close(self) -> None:
        """End the redrawn line, so what the command prints next starts on a line of its own."""
        with self._lock:
            if self.enabled and self._drawn:
                self.stream.write("\r\x1b[K", ending="")
                self._drawn = False


def _isatty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False
