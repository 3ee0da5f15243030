"""management/progress.py: a redrawn line on a terminal, periodic plain lines otherwise, silence at 0."""

from __future__ import annotations

import io

from django.core.management.base import OutputWrapper

from django_minio_backend.management.progress import Progress, human_bytes, human_seconds


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make(tty: bool, verbosity: int = 1, **kwargs):
    out, clock = io.StringIO(), Clock()
    progress = Progress(
        OutputWrapper(out),
        "copy",
        total=10,
        total_bytes=1000,
        verbosity=verbosity,
        tty=tty,
        clock=clock,
        **kwargs,
    )
    return progress, out, clock


def test_log_lines_at_most_every_interval():
    progress, out, clock = make(tty=False, interval=10)
    for _ in range(5):
        clock.now += 1
        progress.add(1, 100)
    assert out.getvalue() == ""  # 5 s: nothing yet
    clock.now += 6
    progress.add(1, 100)
    lines = out.getvalue().splitlines()
    assert lines == ["copy: 6/10 files, 600 B/1000 B, 55 B/s, ETA 7s"]
    progress.close()
    assert "\r" not in out.getvalue()


def test_terminal_redraws_one_line_and_clears_it():
    progress, out, clock = make(tty=True, redraw=0.2)
    for _ in range(3):
        clock.now += 0.5
        progress.add(1, 10)
    text = out.getvalue()
    assert text.count("\r\x1b[K") == 3 and "\n" not in text
    progress.close()
    assert out.getvalue().endswith("\r\x1b[K")


def test_verbosity_zero_writes_nothing():
    progress, out, clock = make(tty=False, verbosity=0, interval=0)
    clock.now += 100
    progress.add(5, 500)
    progress.close()
    assert out.getvalue() == ""


def test_units():
    assert human_bytes(512) == "512 B" and human_bytes(3 * 1024 * 1024) == "3.0 MiB"
    assert human_seconds(5) == "5s" and human_seconds(125) == "2m05s" and human_seconds(3700) == "1h01m"
