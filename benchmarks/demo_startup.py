"""Time `make demo` from a clean clone until http://127.0.0.1:PORT/ answers 200.

Run: .venv/bin/python benchmarks/demo_startup.py [--repo PATH] [--port N]
Clones the repository (its committed HEAD) into a temporary directory, runs `make demo` there
with DEMO_PORT, polls the page, then sends Ctrl-C (SIGINT to the process group) and checks that
the embedded S3 server stopped too. Writes benchmarks/results/demo_startup.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from django_minio_backend.testing._process import free_ports, pid_alive

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "demo_startup.md"
TIMEOUT = 1200.0


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def run(repo: Path, port: int) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="demo-startup-"))
    clone, log = workdir / "clone", workdir / "make-demo.log"
    url = f"http://127.0.0.1:{port}/"
    started = time.monotonic()
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    with log.open("wb") as out:
        make = subprocess.Popen(
            ["make", "demo"],
            cwd=clone,
            env={**os.environ, "DEMO_PORT": str(port)},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    installed_at = None
    try:
        while not answers(url):
            if make.poll() is not None:
                raise RuntimeError(f"make demo exited with {make.returncode}:\n{log.read_text()[-3000:]}")
            if installed_at is None and "run_demo.py" in log.read_text(errors="replace"):
                installed_at = time.monotonic() - started
            if time.monotonic() - started > TIMEOUT:
                raise RuntimeError(f"{url} did not answer in {TIMEOUT:.0f} s")
            time.sleep(0.2)
        answered_at = time.monotonic() - started
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGINT)  # Ctrl-C, as a terminal sends it
            make.wait(timeout=60)
    output = log.read_text(errors="replace")
    s3_pid = int(re.search(r"embedded S3 server \(moto\) at \S+, pid (\d+)", output).group(1))
    steps = dict(re.findall(r"^  ([a-z_]+): ([\d.]+) s$", output, re.M))
    result = {
        "answered": answered_at,
        "installed": installed_at or answered_at,
        "steps": steps,
        "s3_stopped": not pid_alive(s3_pid),
        "load": os.getloadavg()[0],
    }
    shutil.rmtree(workdir, ignore_errors=True)
    return result


def write(result: dict, repo: Path) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    steps = ", ".join(f"{name} {seconds} s" for name, seconds in result["steps"].items())
    RESULTS.write_text(
        "# `make demo` from a clean clone\n\n"
        f"Measured {now} with `benchmarks/demo_startup.py` on a clone of `{repo.name}`; "
        f"1-minute load average at the end: {result['load']:.1f} (2 cores, shared).\n\n"
        "| phase | seconds from `git clone` |\n|---|---|\n"
        f"| clone + venv + `pip install -e .[test]` done | {result['installed']:.1f} |\n"
        f"| `/` answers 200 | {result['answered']:.1f} |\n\n"
        f"run_demo.py steps: {steps}.\n\n"
        f"Ctrl-C stopped the embedded S3 server: {'yes' if result['s3_stopped'] else 'NO'}.\n"
        "The install time depends on pip's cache and the machine's load; the steps after it do not "
        "need the network.\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repo", type=Path, default=ROOT)
    parser.add_argument("--port", type=int, default=free_ports(1)[0])
    args = parser.parse_args()
    result = run(args.repo.resolve(), args.port)
    write(result, args.repo.resolve())
    print(RESULTS.read_text())
    return 0 if result["s3_stopped"] else 1


if __name__ == "__main__":
    sys.exit(main())
