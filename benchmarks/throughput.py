"""Big uploads from disk, side by side: this package, django-storages[s3] and minio-py's fput_object.

Each upload runs in a fresh process (benchmarks/_throughput_worker.py) with the same part size
and the same number of parts in flight for every contender, on moto and on Ceph RGW, for a
256 MiB and a 1 GiB file of random bytes; 3 runs each, in rotating contender order, medians
reported. RGW keeps its data in RAM (memstore, 2 GiB) and frees deleted objects only later, so
every RGW upload gets a fresh server. A sweep of this package's ``num_parallel_uploads`` (1, 2,
4, 8) chose the default. The load average of the shared machine is recorded with the figures.
Results go to benchmarks/results/throughput.md.

    .venv/bin/python benchmarks/throughput.py            # the full run (about 10 minutes)
    .venv/bin/python benchmarks/throughput.py --quick    # 32 MiB, one run, moto only

django-storages runs in its own virtualenv (benchmarks/.venvs/storages, made on first use).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _venvs import CONTENDERS, ensure_venv, find_python  # noqa: E402

from django_minio_backend.testing import create_bucket, start_server  # noqa: E402

WORKER = HERE / "_throughput_worker.py"
RESULTS = HERE / "results" / "throughput.md"
TIMEOUT = 300  # one upload
BUDGET = 20 * 60  # the whole run
BUCKET = "bench-throughput"
LABELS = {
    "ours": "this package",
    "storages": "django-storages[s3] (boto3)",
    "fput": "minio-py fput_object",
}


def log(message: str) -> None:
    print(f"[throughput {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def make_file(directory: Path, mib: int) -> Path:
    path = directory / f"big-{mib}.bin"
    with path.open("wb") as handle:
        for _ in range(mib):
            handle.write(os.urandom(1024 * 1024))
    return path


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.started = time.monotonic()
        self.pythons = {"ours": Path(sys.executable), "fput": Path(sys.executable)}
        self.pythons["storages"] = ensure_venv(CONTENDERS["storages"], find_python())
        self.loads: list[float] = []

    def upload(self, server: Any, contender: str, path: Path, parallel: int) -> dict[str, Any]:
        if time.monotonic() - self.started > BUDGET:
            return {"error": "run budget spent"}
        name = f"{contender}-{time.time_ns()}.bin"
        env = {
            **os.environ,
            "BENCH_ENDPOINT": server.endpoint,
            "BENCH_ACCESS_KEY": server.access_key,
            "BENCH_SECRET_KEY": server.secret_key,
            "BENCH_REGION": server.region,
            "BENCH_BUCKET": BUCKET,
        }
        command = [str(self.pythons[contender]), str(WORKER), "--contender", contender]
        command += ["--file", str(path), "--name", name, "--part-mib", str(self.args.part_mib)]
        command += ["--parallel", str(parallel)]
        self.loads.append(os.getloadavg()[0])
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {TIMEOUT} s"}
        if done.returncode != 0:
            return {"error": done.stderr.strip()[-300:]}
        result = json.loads(done.stdout.strip().splitlines()[-1])
        with contextlib.suppress(Exception):
            server.client().remove_object(bucket_name=BUCKET, object_name=name)
        log(f"{server.kind} {path.name} {contender} x{parallel}: {result['seconds']:.2f} s")
        return result

    def series(self, kind: str, path: Path, plan: list[tuple[str, int]]) -> dict[tuple[str, int], list]:
        """``runs`` uploads of ``path`` per (contender, parallel), rotating the order each run."""
        measured: dict[tuple[str, int], list] = {entry: [] for entry in plan}
        fresh = kind == "rgw"
        with contextlib.ExitStack() as stack:
            server = None if fresh else self._server(stack, kind)
            for run in range(self.args.runs):
                shift = run % len(plan)
                for entry in plan[shift:] + plan[:shift]:
                    if fresh:
                        with contextlib.ExitStack() as one:
                            measured[entry].append(
                                self.upload(self._server(one, kind), *entry[:1], path, entry[1])
                            )
                    else:
                        measured[entry].append(self.upload(server, entry[0], path, entry[1]))
        return measured

    @staticmethod
    def _server(stack: contextlib.ExitStack, kind: str) -> Any:
        server = stack.enter_context(start_server(kind)).server
        create_bucket(server.client(), BUCKET, public=False)
        return server


def median_row(label: str, results: list[dict[str, Any]]) -> str:
    good = [r for r in results if not r.get("error")]
    if not good:
        return f"| {label} | failed: {results[0].get('error', '')[:120]} | | | |"
    wall = statistics.median(r["seconds"] for r in good)
    speed = statistics.median(r["mib_per_s"] for r in good)
    peak = statistics.median(r["peak_increase_mib"] for r in good)
    requests = sorted({r["requests"] for r in good})
    failed = len(results) - len(good)
    note = f" ({failed} of {len(results)} failed)" if failed else ""
    return (
        f"| {label}{note} | {wall:.2f} ({min(r['seconds'] for r in good):.2f}-"
        f"{max(r['seconds'] for r in good):.2f}) | {speed:.0f} | {peak:+.0f} | "
        f"{'/'.join(str(n) for n in requests)} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--servers", default="moto,rgw")
    parser.add_argument("--sizes", default="256,1024", help="MiB, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--part-mib", type=int, default=8)
    parser.add_argument("--parallel", type=int, default=4, help="parts in flight, for every contender")
    parser.add_argument("--sweep", default="1,2,4,8", help="this package's num_parallel_uploads to sweep")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.quick:
        args.servers, args.sizes, args.runs, args.sweep = "moto", "32", 1, "1,4"
    bench = Bench(args)
    sizes = [int(size) for size in args.sizes.split(",")]
    sweep = [int(n) for n in args.sweep.split(",") if n]
    lines = [
        "# Big uploads from disk: this package, django-storages, minio-py fput_object",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `benchmarks/throughput.py`, on a 2-core machine "
        "shared with other work. Each upload is a fresh process; the three contenders use the same part "
        f"size ({args.part_mib} MiB) and the same number of parts in flight ({args.parallel}); {args.runs} "
        "runs in rotating order, medians (range). Peak RSS is the upload's own growth over the process's "
        "RSS just before it (VmHWM after resetting it). Requests are counted on the client side "
        "(urllib3's pool), the object's own requests included.",
        "",
    ]
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        for kind in args.servers.split(","):
            for mib in sizes:
                path = make_file(Path(tmp), mib)
                plan = [(key, args.parallel) for key in LABELS]
                measured = bench.series(kind, path, plan)
                lines += [
                    f"## {kind}, {mib} MiB",
                    "",
                    "| contender | wall s, median (range) | MiB/s | peak RSS MiB over pre-op | requests |",
                    "| --- | --- | --- | --- | --- |",
                    *(median_row(LABELS[key], measured[(key, n)]) for key, n in plan),
                    "",
                ]
                path.unlink()
            if sweep:
                path = make_file(Path(tmp), sizes[0])
                plan = [("ours", n) for n in sweep]
                measured = bench.series(kind, path, plan)
                lines += [
                    f"### {kind}, {sizes[0]} MiB: this package's `num_parallel_uploads`",
                    "",
                    "| parts in flight | wall s, median (range) | MiB/s | peak RSS MiB over pre-op | requests |",
                    "| --- | --- | --- | --- | --- |",
                    *(median_row(str(n), measured[("ours", n)]) for _, n in plan),
                    "",
                ]
                path.unlink()
    loads = bench.loads or [0.0]
    lines += [
        f"Load average (1 min) at the uploads' start: median {statistics.median(loads):.2f}, "
        f"range {min(loads):.2f}-{max(loads):.2f}; run took {time.monotonic() - bench.started:.0f} s.",
        "",
    ]
    text = "\n".join(lines)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
