"""Side by side: this package, the published django-minio-backend 4.x and django-storages[s3].

One S3 server (Ceph RGW when installed, else moto; see ``django_minio_backend.testing``) is
started for the whole run. Every contender runs the same workloads in its own virtualenv
(benchmarks/.venvs/, created on first use) and its own process (benchmarks/_worker.py), because
4.x and this package share the import name ``django_minio_backend``. Results go to
benchmarks/results/compare.md and to stdout.

    .venv/bin/python benchmarks/compare.py            # the full run (a few minutes on RGW)
    .venv/bin/python benchmarks/compare.py --quick    # a smoke run with small counts and 16 MiB
    MINIO_TEST_SERVER=moto .venv/bin/python benchmarks/compare.py

Requests are counted on the client side inside each worker, by wrapping urllib3's
connection-pool ``urlopen``, which minio-py and botocore both send every request through.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
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

from _report import render  # noqa: E402
from _venvs import CONTENDERS, ROOT, VARIANTS, ensure_venv, find_python, venv_python  # noqa: E402

from django_minio_backend.testing import (  # noqa: E402
    create_bucket,
    empty_bucket,
    start_server,
)

WORKER = HERE / "_worker.py"
RESULTS = HERE / "results" / "compare.md"
MAIN_TIMEOUT = int(os.environ.get("BENCH_MAIN_TIMEOUT", "300"))
BIG_TIMEOUT = int(os.environ.get("BENCH_BIG_TIMEOUT", "240"))


def log(message: str) -> None:
    print(f"[compare {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def make_big_file(directory: Path, mib: int) -> tuple[Path, str]:
    """A file of ``mib`` MiB of random bytes (so nothing can compress it) and its SHA-256."""
    path = directory / "big.bin"
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        for _ in range(mib):
            chunk = os.urandom(1024 * 1024)
            digest.update(chunk)
            handle.write(chunk)
    return path, digest.hexdigest()


def create_buckets(client: Any, prefix: str, region: str) -> None:
    for suffix, public in (("private", False), ("public", True), ("static", True)):
        create_bucket(client, f"{prefix}-{suffix}", public=public)


def run_worker(
    python: Path, backend: str, phase: str, env: dict[str, str], timeout: int, workdir: Path
) -> dict[str, Any]:
    """Run one worker phase; its JSON, or a dict with "fatal" when it could not finish."""
    out = workdir / f"{backend}-{phase}.json"
    command = [str(python), str(WORKER), "--backend", backend, "--phase", phase, "--out", str(out)]
    started = time.monotonic()
    try:
        done = subprocess.run(command, env=env, cwd=workdir, capture_output=True, text=True, timeout=timeout)
        failure = None if done.returncode == 0 else f"worker exited {done.returncode}: {done.stderr[-600:]}"
    except subprocess.TimeoutExpired:
        failure = f"worker timed out after {timeout} s"
    data = json.loads(out.read_text()) if out.exists() else {"workloads": {}, "env": {}}
    if failure and not data.get("fatal"):
        data["fatal"] = failure
    log(
        f"{backend}/{phase}: {time.monotonic() - started:.1f} s{' - ' + data['fatal'][:200] if data.get('fatal') else ''}"
    )
    return data


def worker_env(server: Any, prefix: str, quick: bool, static_files: int) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "DJANGO_SETTINGS"))
    }
    env.update(
        BENCH_ENDPOINT=server.endpoint,
        BENCH_ACCESS_KEY=server.access_key,
        BENCH_SECRET_KEY=server.secret_key,
        BENCH_REGION=server.region,
        BENCH_BUCKET_PREFIX=prefix,
        BENCH_QUICK="1" if quick else "0",
        BENCH_STATIC_FILES=str(static_files),
    )
    return env


def fail_all(data: dict[str, Any], keys: tuple[str, ...], reason: str) -> None:
    """Mark every workload the worker did not report as failed with ``reason``."""
    for key in keys:
        data["workloads"].setdefault(key, {"ops": 0, "error": reason})


MAIN_KEYS = (
    "save_new",
    "save_overwrite",
    "exists_hit",
    "exists_miss",
    "size",
    "url_private",
    "url_cached_first",
    "url_cached_repeat",
    "url_public",
    "listdir",
    "collectstatic_first",
    "collectstatic_second",
)


def best_of(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Per workload, the round with the lowest mean time; a round that failed wins (shows the error)."""
    merged: dict[str, Any] = {}
    for workloads in rounds:
        for key, entry in workloads.items():
            kept = merged.get(key)
            if kept is None or (not kept.get("error") and (entry.get("error") or _mean(entry) < _mean(kept))):
                merged[key] = entry
    return merged


def _mean(entry: dict[str, Any]) -> float:
    times = entry.get("times_ms") or []
    return sum(times) / len(times) if times else float("inf")


def server_version(kind: str) -> str:
    if kind == "rgw":
        try:
            done = subprocess.run(["radosgw", "--version"], capture_output=True, text=True, timeout=20)
            return done.stdout.strip().split(" (")[0]
        except OSError:
            return "unknown"
    if kind == "moto":
        from importlib import metadata

        return f"moto {metadata.version('moto')}"
    return "external server"


def git_revision() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    revision = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = (
        " (with uncommitted changes)" if git("status", "--porcelain", "--", "django_minio_backend") else ""
    )
    return revision + dirty


def count_static(client: Any, bucket: str) -> int:
    return sum(1 for _ in client.list_objects(bucket_name=bucket, recursive=True))


class Run:
    """One benchmark run: the contenders, their virtualenvs, the server and what they measured."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.chosen = [CONTENDERS[key] for key in args.contenders.split(",") if key]
        self.variants = [VARIANTS["v4-multipart"]] if any(c.key == "v4" for c in self.chosen) else []
        self.big_mib = args.big_mib or (16 if args.quick else 256)
        self.static_files = 30 if args.quick else 300
        self.python = find_python()
        self.results: dict[str, dict[str, Any]] = {}
        self.versions: dict[str, dict[str, str]] = {}
        self.ready: dict[str, Path] = {}
        self.workdir = Path(".")

    def prepare_venvs(self) -> None:
        for contender in self.chosen:
            log(f"virtualenv for {contender.key} ({self.python})")
            try:
                self.ready[contender.key] = ensure_venv(
                    contender, self.python, refresh=self.args.refresh_venvs
                )
            except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
                data: dict[str, Any] = {"workloads": {}}
                fail_all(data, (*MAIN_KEYS, "big_save", "big_read"), f"virtualenv: {exc}"[:300])
                self.results[contender.key] = data["workloads"]
        for variant in self.variants:
            if variant.venv in self.ready:
                self.ready[variant.key] = venv_python(variant)

    def env(self, server: Any, key: str) -> dict[str, str]:
        return worker_env(server, f"bench-{key}", self.args.quick, self.static_files)

    def main_phase(self, server: Any, client: Any) -> None:
        """Each contender's main workloads, in rounds of alternating order (A B C, then C B A).

        Load from elsewhere on the machine comes and goes; alternating the order and keeping the
        faster round per workload keeps a burst from landing on one contender only.
        """
        order = [c for c in self.chosen if c.key in self.ready]
        rounds: dict[str, list[dict[str, Any]]] = {c.key: [] for c in order}
        for number in range(self.args.rounds):
            for contender in order if number % 2 == 0 else order[::-1]:
                static_bucket = f"bench-{contender.key}-static"
                empty_bucket(server, static_bucket, client=client)  # collectstatic starts empty
                env = self.env(server, contender.key)
                data = run_worker(
                    self.ready[contender.key], contender.key, "main", env, MAIN_TIMEOUT, self.workdir
                )
                if data.get("fatal"):
                    fail_all(data, MAIN_KEYS, data["fatal"])
                first = data["workloads"].get("collectstatic_first")
                if first and not first.get("error"):
                    stored = count_static(client, static_bucket)
                    if stored != self.static_files:
                        first["error"] = f"wrong result: {stored} of {self.static_files} files in the bucket"
                rounds[contender.key].append(data["workloads"])
                self.versions[contender.key] = data.get("env") or self.versions.get(contender.key, {})
        for key, measured in rounds.items():
            self.results[key] = best_of(measured)

    def big_phase(self, server: Any, client: Any, big_path: Path, big_sha: str) -> None:
        for contender in [*self.chosen, *self.variants]:
            if contender.key not in self.ready:
                continue
            env = self.env(server, contender.key)
            name = f"big/{contender.key}-{int(time.time())}.bin"
            env.update(
                BENCH_BIG_FILE=str(big_path),
                BENCH_BIG_NAME=name,
                BENCH_BIG_SHA256=big_sha,
                BENCH_BIG_SIZE=str(big_path.stat().st_size),
            )
            self.big_worker(contender.key, "bigsave", "big_save", env)
            if contender.key in CONTENDERS:
                bucket = f"bench-{contender.key}-private"
                try:
                    if self.results[contender.key]["big_save"].get("error"):
                        # Measure the read anyway, on an object uploaded by minio-py.
                        client.fput_object(bucket_name=bucket, object_name=name, file_path=str(big_path))
                    self.big_worker(contender.key, "bigread", "big_read", env)
                    client.remove_object(bucket_name=bucket, object_name=name)
                except Exception as exc:  # the server's trouble must not cost the other contenders' rows
                    self.results[contender.key].setdefault("big_read", {"ops": 0, "error": repr(exc)[:300]})

    def big_worker(self, key: str, phase: str, workload: str, env: dict[str, str]) -> None:
        data = run_worker(self.ready[key], key, phase, env, BIG_TIMEOUT, self.workdir)
        if data.get("fatal"):
            fail_all(data, (workload,), data["fatal"])
        self.results.setdefault(key, {}).update(data["workloads"])

    def execute(self) -> tuple[str, str]:
        """Run every phase on one server; its kind and version."""
        with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
            self.workdir = Path(tmp)
            log(f"writing a {self.big_mib} MiB file")
            big_path, big_sha = make_big_file(self.workdir, self.big_mib)
            log("starting the S3 server")
            with start_server(self.args.server) as running:
                server = running.server
                log(f"{server.kind} at {server.endpoint} (started in {running.startup_seconds:.1f} s)")
                client = server.client()
                for key in self.ready:
                    create_buckets(client, f"bench-{key}", server.region)
                self.main_phase(server, client)
                self.big_phase(server, client, big_path, big_sha)
                return server.kind, server_version(server.kind)

    def report(self, kind: str, version: str, seconds: float) -> str:
        labels = {c.key: c.label for c in self.chosen}
        variant_labels = {v.key: v.label for v in self.variants if v.key in self.results}
        environment = describe(
            kind, version, self.versions, labels, self.python, seconds, self.args.quick, self.big_mib
        )
        notes = [
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {kind} ({version}), one server for all "
            f"contenders, each contender in its own virtualenv and process. Made by `benchmarks/compare.py`.",
            "",
            "Requests are counted on the client side: each worker wraps urllib3's connection-pool "
            "`urlopen`, which minio-py and botocore both send every HTTP request through (retries "
            "included). Times are wall-clock per operation on a 2-core machine shared with other work. "
            f"The small workloads ran in {self.args.rounds} round(s) of alternating contender order "
            "and each table shows the faster round; still, compare times within one table and treat "
            "small differences as noise. Request counts and memory are exact.",
        ]
        sizes = {"mib": self.big_mib, "static": self.static_files, "listed": 20 if self.args.quick else 200}
        return render(self.results, labels, environment, notes, variant_labels, sizes)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--server", default=None, help="rgw, moto, external or auto (default: MINIO_TEST_SERVER)"
    )
    parser.add_argument("--contenders", default=",".join(CONTENDERS), help="comma-separated subset")
    parser.add_argument("--quick", action="store_true", help="small counts and a 16 MiB big file")
    parser.add_argument("--big-mib", type=int, default=None, help="size of the big object (default 256)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=None,
        help="main-workload rounds, the faster counts (default 2, quick 1)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--refresh-venvs", action="store_true", help="recreate the virtualenvs")
    args = parser.parse_args()
    unknown = [key for key in args.contenders.split(",") if key and key not in CONTENDERS]
    if unknown:
        parser.error(f"unknown contender(s) {', '.join(unknown)}; choose from {', '.join(CONTENDERS)}")

    args.rounds = args.rounds or (1 if args.quick else 2)
    started = time.monotonic()
    run = Run(args)
    run.prepare_venvs()
    kind, version = run.execute()
    text = run.report(kind, version, time.monotonic() - started)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    log(f"wrote {args.out} in {time.monotonic() - started:.0f} s")
    return 0


def describe(
    kind: str,
    version: str,
    versions: dict[str, dict[str, str]],
    labels: dict[str, str],
    python: str,
    seconds: float,
    quick: bool,
    big_mib: int,
) -> list[str]:
    lines = [
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; run took {seconds:.0f} s"
        + (" (quick mode: small counts)" if quick else ""),
        f"- S3 server: {kind}, {version}, on 127.0.0.1",
        f"- Host: {platform.platform()}, {os.cpu_count()} CPUs; contenders' Python: {python}",
        f"- This package: git {git_revision()}",
        f"- Big object: {big_mib} MiB of random bytes",
    ]
    for key, label in labels.items():
        found = versions.get(key) or {}
        shown = ", ".join(
            f"{dist} {ver}" for dist, ver in found.items() if dist != "django_minio_backend from"
        )
        lines.append(f"- {label}: {shown or 'versions unknown (worker failed)'}")
    return lines


if __name__ == "__main__":
    sys.exit(main())
