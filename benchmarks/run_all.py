"""Run every benchmark script in benchmarks/, one after the other (`make bench`).

A benchmark script is any ``benchmarks/*.py`` whose name does not start with an underscore
(those are helper modules), other than this file. Scripts run with this interpreter from the
repository root; one that fails is reported and the others still run. Arguments given here are
not passed on: each script has its own (see benchmarks/README.md).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def scripts() -> list[Path]:
    return sorted(
        path for path in HERE.glob("*.py") if not path.name.startswith("_") and path.name != "run_all.py"
    )


def main() -> int:
    found = scripts()
    if not found:
        print("run_all: no benchmark scripts in benchmarks/")
        return 0
    failed: list[str] = []
    for script in found:
        print(f"run_all: {script.name}", flush=True)
        started = time.monotonic()
        code = subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode
        print(f"run_all: {script.name} exited {code} after {time.monotonic() - started:.0f} s", flush=True)
        if code != 0:
            failed.append(script.name)
    if failed:
        print(f"run_all: failed: {', '.join(failed)}")
        return 1
    print(f"run_all: {len(found)} benchmark(s) done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
