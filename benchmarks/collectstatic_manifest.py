"""collectstatic with hashed names (a manifest storage), side by side in one run on one S3 server.

Rows, every run in a new process, each contender into its own empty bucket, for Django's admin
plus generated files (3,000 in all, benchmarks/collectstatic.py's set), first run and unchanged
run:
- this package, MinioManifestStaticStorage (16 workers, the default), and the same with
  MINIO_STATIC_KEEP_ONLY_HASHED_FILES;
- django-storages' S3ManifestStaticStorage with Django's collectstatic;
- the two-step pipeline: Django's ManifestStaticFilesStorage into a local STATIC_ROOT, then
  Debian's ``rclone copy --checksum --fast-list`` to the bucket with 16 transfers and 16 checkers (the same
  concurrency). Its time is the sum of both steps; its requests are rclone's (``--dump headers``).

Repetitions rotate the contender order; tables show medians (and ranges). django-storages takes
minutes per run here, so it runs in the first repetition only. The load average of the
shared machine is recorded. Writes benchmarks/results/collectstatic_manifest.md.

    .venv/bin/python benchmarks/collectstatic_manifest.py           # about 10 minutes on RGW
    BENCH_FILES=300 BENCH_REPS=1 .venv/bin/python benchmarks/collectstatic_manifest.py
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _venvs import CONTENDERS, ensure_venv, find_python  # noqa: E402
from collectstatic import FILES, admin_static, make_sources, run_worker, worker_env  # noqa: E402

from django_minio_backend.testing import create_bucket, empty_bucket, start_server  # noqa: E402

RESULTS = HERE / "results" / "collectstatic_manifest.md"
REPS = int(os.environ.get("BENCH_REPS", "3"))
BUDGET = int(os.environ.get("BENCH_BUDGET", str(25 * 60)))
WORKERS = 16
RUNS = ("first", "unchanged")
ROWS = {
    "ours": "this package, MinioManifestStaticStorage",
    "ours-hashed": "this package, MINIO_STATIC_KEEP_ONLY_HASHED_FILES",
    "pipeline": "Django ManifestStaticFilesStorage to disk + rclone copy",
    "storages": "django-storages S3ManifestStaticStorage",  # minutes per run: one repetition, last
}
ONCE = {"storages"}
REQUEST_LINE = re.compile(r"DEBUG : (GET|PUT|HEAD|POST|DELETE) (\S+) HTTP/1\.1")


def log(message: str) -> None:
    print(f"[manifest {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def rclone(server, root: Path, bucket: str) -> dict:
    """``rclone copy`` of STATIC_ROOT into the bucket: wall time and requests by method."""
    # AWS_CA_BUNDLE (set on some hosts) makes rclone's S3 SDK fail on a plain-http endpoint.
    env = {
        **{k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"},
        "RCLONE_CONFIG_BENCH_TYPE": "s3",
        "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
        "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": server.access_key,
        "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": server.secret_key,
        "RCLONE_CONFIG_BENCH_ENDPOINT": f"http://{server.endpoint}",
        "RCLONE_CONFIG_BENCH_REGION": server.region,
        "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE": "true",
    }
    command = [
        "rclone",
        "copy",
        "--checksum",
        "--fast-list",
        f"--transfers={WORKERS}",
        f"--checkers={WORKERS}",
    ]
    command += ["--dump", "headers", "--log-file", "/dev/stderr", str(root), f"bench:{bucket}"]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-300:]}
    methods = Counter()
    for method, path in REQUEST_LINE.findall(done.stderr):
        methods["GET(list)" if method == "GET" and path.split("?")[0].strip("/") == bucket else method] += 1
    return {"seconds": seconds, "requests": dict(methods), "total": sum(methods.values())}


def one(contender: str, python: dict, server, env: dict, source: Path, bucket: str, work: Path) -> dict:
    if contender == "pipeline":
        root = work / f"root-{bucket}"
        local = run_worker(
            python["ours"], "local-manifest", 1, {**env, "BENCH_STATIC_ROOT": str(root)}, source, bucket, work
        )
        if "error" in local:
            return local
        copy = rclone(server, root, bucket)
        if "error" in copy:
            return copy
        return {
            "seconds": local["seconds"] + copy["seconds"],
            "parts": f"collectstatic {local['seconds']:.2f} + rclone {copy['seconds']:.2f}",
            "requests": copy["requests"],
            "total": copy["total"],
            "peak_over_kib": local["peak_over_kib"],
        }
    backend = {"ours": "ours-manifest", "ours-hashed": "ours-manifest", "storages": "storages-manifest"}[
        contender
    ]
    extra = {"BENCH_KEEP_ONLY_HASHED": "1"} if contender == "ours-hashed" else {}
    venv = python["storages"] if contender == "storages" else python["ours"]
    return run_worker(venv, backend, WORKERS, {**env, **extra}, source, bucket, work)


def main() -> None:
    started = time.monotonic()
    python = {"ours": Path(sys.executable), "storages": ensure_venv(CONTENDERS["storages"], find_python())}
    admin = [p for p in admin_static().rglob("*") if p.is_file()]
    measured: dict[tuple[str, str], list[dict]] = {(c, r): [] for c in ROWS for r in RUNS}
    loads: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-csm-") as tmp, start_server() as running:
        server = running.server
        work = Path(tmp)
        template = work / "template"
        make_sources(template, FILES - len(admin))
        shutil.copytree(admin_static(), template, dirs_exist_ok=True)
        env = worker_env(server)
        client = server.client()
        order = [key for key in ROWS if key not in ONCE]
        for rep in range(REPS):
            rotated = order[rep % len(order) :] + order[: rep % len(order)]
            for contender in rotated + sorted(ONCE):
                if time.monotonic() - started > BUDGET:
                    log("budget spent: stopping")
                    break
                if contender in ONCE and rep > 0:
                    continue
                bucket = f"bench-csm-{uuid.uuid4().hex[:10]}"
                create_bucket(client, bucket, public=True)
                source = work / f"src-{bucket}"
                shutil.copytree(template, source)
                try:
                    for run in RUNS:
                        loads.append(os.getloadavg()[0])
                        result = one(contender, python, server, env, source, bucket, work)
                        log(f"{contender} / {run}: {result.get('seconds', result.get('error'))}")
                        measured[(contender, run)].append(result)
                finally:
                    empty_bucket(server, bucket, client=client)
                    client.remove_bucket(bucket_name=bucket)
                    shutil.rmtree(source, ignore_errors=True)
                    shutil.rmtree(work / f"root-{bucket}", ignore_errors=True)
        kind = server.kind
    write_report(measured, kind, loads, time.monotonic() - started, len(admin))


def fmt_requests(result: dict) -> str:
    found = result.get("requests") or {}
    return ", ".join(f"{k} {v}" for k, v in sorted(found.items())) or "none"


def row(label: str, run: str, results: list[dict]) -> tuple[str, float | None]:
    good = [r for r in results if "seconds" in r]
    if not good:
        error = results[0].get("error", "not run") if results else "not run"
        return f"| {label} | {run} | failed: {str(error)[:100]} | | | |", None
    wall = statistics.median(r["seconds"] for r in good)
    spread = f"{min(r['seconds'] for r in good):.2f}-{max(r['seconds'] for r in good):.2f}"
    peak = statistics.median(r.get("peak_over_kib", 0) for r in good) / 1024
    last = good[-1]
    return (
        f"| {label} | {run} | {wall:.2f} ({spread}) | {fmt_requests(last)} | {last.get('total', '')} | {peak:.1f} |",
        wall,
    )


def write_report(measured, kind, loads, seconds, admin_files) -> None:
    lines = [
        "# collectstatic with hashed names: 3,000 files, side by side",
        "",
        f"Server: {kind} on 127.0.0.1. Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with "
        f"`benchmarks/collectstatic_manifest.py`, 2 CPUs shared with other jobs; {FILES} files "
        f"({admin_files} of Django's admin, the rest generated 1-4 KiB CSS/JS/SVG, some CSS referring "
        f"to images). Each run is a new process; wall time is `call_command` (for the pipeline, plus "
        f"`rclone copy --checksum --fast-list --transfers {WORKERS} --checkers {WORKERS}`); requests are counted "
        "on the client side (rclone's from `--dump headers`); memory is peak RSS over the RSS just "
        "before (for the pipeline: of Django's collectstatic). Medians of the repetitions (range).",
        "",
        "| contender | run | wall (s) | requests (last repetition) | total | peak RSS over pre-op (MiB) |",
        "|---|---|---|---|---|---|",
    ]
    walls: dict[tuple[str, str], float | None] = {}
    for contender, label in ROWS.items():
        for run in RUNS:
            text, wall = row(label, run, measured[(contender, run)])
            walls[(contender, run)] = wall
            lines.append(text)
    lines.append("")
    for run in RUNS:
        pipeline = walls.get(("pipeline", run))
        for contender in ("ours", "ours-hashed"):
            ours = walls.get((contender, run))
            if ours and pipeline:
                lines.append(
                    f"- {ROWS[contender]}, {run} run: {ours / pipeline:.2f}x the pipeline (goal at most 1.2x)"
                )
    lines += [
        "",
        f"Load average (1 min) at the runs' start: median {statistics.median(loads or [0]):.2f}, "
        f"range {min(loads or [0]):.2f}-{max(loads or [0]):.2f}; the whole benchmark took {seconds:.0f} s.",
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
