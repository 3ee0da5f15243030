"""Start and stop ``examples/run_demo.py`` as a subprocess, as ``make demo`` does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django_minio_backend.testing._process import free_ports

from . import ROOT

RUN_DEMO = ROOT / "examples" / "run_demo.py"
# Variables of the outer environment that would change which server or database the demo uses.
DEMO_ENV_PREFIXES = ("MINIO_", "DEMO_", "DJANGO_")


class DemoProcess:
    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.port = free_ports(1)[0]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = workdir / "run_demo.log"
        clean = {key: value for key, value in os.environ.items() if not key.startswith(DEMO_ENV_PREFIXES)}
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(RUN_DEMO), "--port", str(self.port)],
                env={**clean, **env, "PYTHONUNBUFFERED": "1"},
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until_serving(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"run_demo.py exited with {self.process.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        raise RuntimeError(f"run_demo.py did not serve {self.url} in {timeout:.0f} s:\n{self.output()}")

    def interrupt(self, timeout: float = 20.0) -> int:
        """Send Ctrl-C (SIGINT) and wait; kill by pid if it does not stop."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode
