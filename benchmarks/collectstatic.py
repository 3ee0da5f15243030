"""collectstatic of 3,000 files, side by side in one run on one S3 server (Ceph RGW when installed).

Rows, each contender in its own virtualenv (benchmarks/.venvs/) and every run in a new process,
as a deploy would run it:
- this package, MinioBackendStatic with this app's collectstatic, 1 worker (sequential uploads),
  8 workers and 16 workers (the default);
- django-storages' S3StaticStorage with Django's collectstatic;
- collectfast 2.2 on S3StaticStorage, COLLECTFAST_THREADS = 16 (our default worker count), its hash
  cache in a file cache without an entry limit.

Each contender collects the same files (generated 1-4 KiB CSS/JS/SVG plus Django admin's static
files, 3,000 in all) into its own empty bucket: first run, second run (nothing changed), and a run
after 1% of the files were edited. Columns: wall time of call_command, requests by kind (counted
on the client side, see _counting), peak RSS during the run over the RSS just before it. Then the
admin's CSS and JS are downloaded from each bucket as a browser would (Accept-Encoding: gzip)
and the bytes on the wire are summed.

    .venv/bin/python benchmarks/collectstatic.py      # a few minutes on RGW
    BENCH_FILES=300 .venv/bin/python benchmarks/collectstatic.py

Writes benchmarks/results/collectstatic.md.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _venvs import CONTENDERS, STATIC_PEERS, ensure_venv, find_python  # noqa: E402

from django_minio_backend.testing import (  # noqa: E402
    create_bucket,
    empty_bucket,
    start_server,
)

RESULTS = HERE / "results" / "collectstatic.md"
WORKER = HERE / "_collectstatic_worker.py"
FILES = int(os.environ.get("BENCH_FILES", "3000"))
RUN_TIMEOUT = int(os.environ.get("BENCH_RUN_TIMEOUT", "300"))
RUNS = ("first", "unchanged", "1% edited")
ROWS = (  # label, venv contender, worker backend, workers
    ("this package, 1 worker (sequential)", "ours", "ours", 1),
    ("this package, 8 workers", "ours", "ours", 8),
    ("this package, 16 workers (default)", "ours", "ours", 16),
    ("django-storages S3StaticStorage", "storages", "storages", 1),  # Django's command: one at a time
    ("collectfast 2.2, 16 threads", "collectfast", "collectfast", 16),
)


def log(message: str) -> None:
    print(f"[collectstatic {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def admin_static() -> Path:
    import django

    return Path(django.__file__).parent / "contrib" / "admin" / "static"


def make_sources(root: Path, count: int) -> list[Path]:
    """``count`` files of 1-4 KiB: mostly images and JS, some CSS referring to the images."""
    paths = []
    for index in range(count):
        kind = ("img", "js", "img", "css", "js")[index % 5]
        ext = {"img": "svg", "js": "js", "css": "css"}[kind]
        path = root / kind / f"group{index % 17}" / f"file{index}.{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "css":
            body = (
                f".c{index} {{ background: url('../../img/group{(index - 3) % 17}/file{index - 3}.svg'); }}\n"
            )
        else:
            body = f"/* static file {index} */\n"
        path.write_text(body * (1 + index % 4) + " " * (1024 * (1 + index % 4)))
        paths.append(path)
    return paths


def edit_one_percent(root: Path) -> int:
    paths = sorted(root.rglob("file*"))
    for path in paths[:: max(1, len(paths) // (FILES // 100))][: FILES // 100]:
        path.write_text(path.read_text() + f"/* edited {uuid.uuid4().hex} */\n")
    return FILES // 100


def run_worker(
    python: Path, backend: str, workers: int, env: dict, source: Path, bucket: str, work: Path
) -> dict:
    out = work / f"{bucket}-{uuid.uuid4().hex[:6]}.json"
    command = [
        str(python),
        str(WORKER),
        "--backend",
        backend,
        "--source",
        str(source),
        "--bucket",
        bucket,
        "--out",
        str(out),
        "--cache-dir",
        str(work / f"cache-{bucket}"),
    ]
    try:
        done = subprocess.run(
            command,
            env={**env, "BENCH_WORKERS": str(workers)},
            cwd=work,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {RUN_TIMEOUT} s"}
    if done.returncode != 0 or not out.exists():
        return {"error": f"exit {done.returncode}: {done.stderr.strip()[-300:]}"}
    return json.loads(out.read_text())


def wire_bytes(url_base: str, bucket: str, names: list[str]) -> int:
    """Bytes on the wire for GETs of ``names`` with Accept-Encoding: gzip, as a browser asks."""
    import urllib3

    http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=5, read=30))
    total = 0
    for name in names:
        response = http.request(
            "GET", f"{url_base}/{bucket}/{name}", headers={"Accept-Encoding": "gzip"}, preload_content=False
        )
        if response.status != 200:
            raise RuntimeError(f"GET {bucket}/{name}: HTTP {response.status}")
        total += len(response.read(decode_content=False))
        response.release_conn()
    return total


def worker_env(server) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "DJANGO_SETTINGS"))
    }
    env.update(
        BENCH_ENDPOINT=server.endpoint,
        BENCH_ACCESS_KEY=server.access_key,
        BENCH_SECRET_KEY=server.secret_key,
        BENCH_REGION=server.region,
        BENCH_BUCKET_PREFIX="unused",
        AWS_EC2_METADATA_DISABLED="true",  # botocore: no instance-metadata lookups, loopback only
        AWS_ACCESS_KEY_ID=server.access_key,
        AWS_SECRET_ACCESS_KEY=server.secret_key,
    )
    return env


def main() -> None:
    python = find_python()
    venvs = {}
    for key in ("ours", "storages"):
        venvs[key] = ensure_venv(CONTENDERS[key], python)
    venvs["collectfast"] = ensure_venv(STATIC_PEERS["collectfast"], python)
    admin = sorted(p.relative_to(admin_static()).as_posix() for p in admin_static().rglob("*") if p.is_file())
    admin_text = [name for name in admin if name.endswith((".css", ".js"))]
    admin_raw = sum((admin_static() / name).stat().st_size for name in admin_text)
    generated = FILES - len(admin)
    rows, wire = [], {}
    with tempfile.TemporaryDirectory(prefix="bench-cs-") as tmp, start_server() as running:
        server = running.server
        work = Path(tmp)
        template = work / "template"
        make_sources(template, generated)
        shutil.copytree(admin_static(), template, dirs_exist_ok=True)  # the same admin files for everyone
        env = worker_env(server)
        client = server.client()
        for label, venv, backend, workers in ROWS:
            bucket = f"bench-cs-{uuid.uuid4().hex[:10]}"
            create_bucket(client, bucket, public=True)
            source = work / f"src-{bucket}"
            shutil.copytree(template, source)
            try:
                for run in RUNS:
                    if run == "1% edited":
                        edit_one_percent(source)
                    result = run_worker(venvs[venv], backend, workers, env, source, bucket, work)
                    log(f"{label} / {run}: {result}")
                    rows.append((label, run, result))
                wire[label] = wire_bytes(server.url, bucket, admin_text)
            except Exception as exc:  # one contender's failure must not cost the others their rows
                log(f"{label}: {exc}")
                wire[label] = None
            finally:
                empty_bucket(server, bucket, client=client)
                client.remove_bucket(bucket_name=bucket)
    write_report(rows, wire, server.kind, len(admin), len(admin_text), admin_raw, generated)


def goals(rows, wire, admin_raw, sequential) -> list[str]:
    """Issue 13's figures for the default configuration, read off the rows above."""
    default = {run: r for label, run, r in rows if label.endswith("(default)") and "seconds" in r}
    if len(default) < len(RUNS) or not sequential:
        return ["Goals: the default row did not finish; see the table."]
    first, unchanged, edited = (default[run] for run in RUNS)
    size = next((size for label, size in wire.items() if label.endswith("(default)")), None)
    compressed = f"{size:,} of {admin_raw:,} bytes ({size / admin_raw:.2f})" if size else "failed"
    return [
        "Issue 13's goals, this package with its default workers, from this run:",
        "",
        f"- first run: {first['seconds']:.2f} s, {first['seconds'] / sequential:.2f} of the sequential "
        f"{sequential:.2f} s (goal at most 0.25);",
        f"- unchanged run: {fmt_requests(unchanged)}, {unchanged['seconds']:.2f} s (goal: 3 LIST, at most 1.07 s);",
        f"- 1% edited: {edited['total']} requests ({fmt_requests(edited)}; goal at most 33);",
        f"- peak RSS of the first run over the pre-op RSS: +{first['peak_over_kib'] / 1024:.1f} MiB (goal at most +64);",
        f"- the admin's CSS and JS on the wire: {compressed}.",
    ]


def fmt_requests(result: dict) -> str:
    parts = [f"{kind} {count}" for kind, count in sorted(result.get("requests", {}).items())]
    return ", ".join(parts) or "none"


def write_report(rows, wire, kind, admin_files, admin_text, admin_raw, generated) -> None:
    sequential = next(
        (
            r["seconds"]
            for label, run, r in rows
            if label.endswith("(sequential)") and run == "first" and "seconds" in r
        ),
        None,
    )
    lines = [
        "# collectstatic: 3,000 files, side by side",
        "",
        f"Server: {kind} on 127.0.0.1. Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with "
        f"`benchmarks/collectstatic.py` on {platform.platform()}, {os.cpu_count()} CPUs shared with other jobs. "
        f"{FILES} files: {generated} generated 1-4 KiB CSS/JS/SVG and the {admin_files} files of Django's admin. "
        "Each run is a new process; wall time is `call_command` alone, client CPU the worker process's "
        "user + system time during it; requests are counted on the client "
        "side (LIST = `GET(list)`, one per 1,000 keys); memory is peak RSS during the run over the RSS just before.",
        "",
        "| contender | run | wall (s) | vs sequential | client CPU (s) | requests | total | peak RSS over pre-op (MiB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, run, result in rows:
        if "error" in result:
            lines.append(f"| {label} | {run} | failed: {result['error'][:160]} | | | | | |")
            continue
        ratio = f"{result['seconds'] / sequential:.2f}" if sequential and run == "first" else ""
        lines.append(
            f"| {label} | {run} | {result['seconds']:.2f} | {ratio} | {result['cpu_seconds']:.2f} "
            f"| {fmt_requests(result)} | {result['total']} "
            f"| {result['peak_over_kib'] / 1024:.1f} |"
        )
    lines += [
        "",
        f"Admin CSS and JS ({admin_text} files, {admin_raw:,} bytes as shipped) downloaded from each bucket "
        "with `Accept-Encoding: gzip`:",
        "",
        "| contender | bytes on the wire | ratio to the original |",
        "|---|---|---|",
    ]
    for label, size in wire.items():
        cell = "failed" if size is None else f"{size:,} | {size / admin_raw:.3f}"
        lines.append(f"| {label} | {cell} |" if size is not None else f"| {label} | failed | |")
    lines += ["", *goals(rows, wire, admin_raw, sequential)]
    lines += [
        "",
        "How to read it: this package lists the bucket once per run and compares each local file's MD5 "
        "(raw and as gzipped) with the listed ETag, so an unchanged run is the LIST pages alone and an edited "
        "file costs one PUT; uploads run on a bounded pool. django-storages with Django's command asks HEAD "
        "per file (twice when it is stored) and compares modification times, one file at a time. collectfast "
        "deletes and re-uploads a changed file (HEAD, DELETE, PUT), and afterwards trusts the hashes in its "
        "Django cache without asking the bucket (0 requests when nothing changed, but a file changed or "
        "deleted in the bucket by someone else goes unnoticed until the cache entry goes); each of its "
        "threads builds its own boto3 session, hence its memory. django-storages stores files uncompressed "
        "by default (its `gzip` option is off); this package gzips text types by default (MINIO_GZIP). "
        "Client CPU close to the wall time means the client, not the server, sets the pace: on this 2-core "
        "machine the client and Ceph RGW share the CPUs, so parallel uploads gain less than over a network, "
        "where each sequential round trip also waits for the network.",
    ]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
