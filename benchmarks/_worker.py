"""One contender's side of compare.py: runs in the contender's virtualenv, writes JSON.

    python _worker.py --backend ours|v4|v4-multipart|storages --phase main|bigsave|bigread --out FILE

The server comes from BENCH_* environment variables (see _contenders.Server). Each workload
is timed per operation and its HTTP requests are counted (see _counting). A workload that
raises is recorded with its error and the next one runs. Results are rewritten to ``--out``
after every workload, so a worker killed on timeout still leaves what it measured.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _counting

REQUESTS = _counting.install()

from _contenders import Server, Storages, installed_apps, storages_setting  # noqa: E402

SMALL = b"x" * 1024
CHUNK = 1024 * 1024


def scale(default: int) -> int:
    """Iteration counts shrink with BENCH_QUICK=1 (a smoke run)."""
    return max(2, default // 10) if os.environ.get("BENCH_QUICK") == "1" else default


class Results:
    def __init__(self, path: Path, backend: str, phase: str) -> None:
        self.path = path
        self.data: dict[str, Any] = {"backend": backend, "phase": phase, "workloads": {}, "env": {}}

    def add(self, key: str, entry: dict[str, Any]) -> None:
        self.data["workloads"][key] = entry
        self.flush()

    def flush(self) -> None:
        tmp = self.path.with_suffix(".part")
        tmp.write_text(json.dumps(self.data, indent=1, default=str))
        tmp.replace(self.path)


def error_text(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {Path(last[0].filename).name}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}"[:300] + where


def measure(ops: list, *, check=None) -> dict[str, Any]:
    """Run each zero-argument callable in ``ops``; time each, count all requests."""
    REQUESTS.reset()
    times: list[float] = []
    outputs: list[Any] = []
    try:
        for op in ops:
            started = time.perf_counter()
            outputs.append(op())
            times.append((time.perf_counter() - started) * 1000)
    except Exception as exc:  # recorded, not raised: one failing workload must not stop the run
        return {"ops": len(times), "error": error_text(exc), **_counts(times)}
    entry = {"ops": len(ops), "error": None, **_counts(times)}
    if check is not None:
        problem = check(outputs)
        if problem:
            entry["error"] = f"wrong result: {problem}"
    return entry


def _counts(times: list[float]) -> dict[str, Any]:
    return {"requests": REQUESTS.count(), "methods": REQUESTS.breakdown(), "times_ms": times}


def content_file(data: bytes):
    from django.core.files.base import ContentFile

    return ContentFile(data)


# -- main phase --------------------------------------------------------------------------------


def guarded(results: Results, keys: tuple[str, ...], group, *args) -> None:
    """Run a workload group; if its set-up fails, its workloads show the error, the rest go on."""
    try:
        group(results, *args)
    except Exception as exc:
        for key in keys:
            results.data["workloads"].setdefault(key, {"ops": 0, "error": f"set-up: {error_text(exc)}"})
        results.flush()


def run_main(results: Results, backend: str, server: Server) -> None:
    stores = Storages(server, backend)
    private = stores.private()
    run = uuid.uuid4().hex[:8]
    private.exists(f"warmup/{run}")  # opens the connection; not measured
    names = [f"small/{run}-{i}.txt" for i in range(scale(50))]
    guarded(results, ("save_new",), run_save_new, private, names)
    guarded(results, ("save_overwrite",), run_save_overwrite, stores, run)
    guarded(results, ("exists_hit", "exists_miss", "size"), run_exists_size, private, names, run)
    keys = ("url_private", "url_cached_first", "url_cached_repeat", "url_public")
    guarded(results, keys, run_urls, stores, private, names)
    guarded(results, ("listdir",), run_listdir, stores.private(replace=True), run)
    guarded(results, ("collectstatic_first", "collectstatic_second"), run_collectstatic)


def run_save_new(results: Results, private, names: list[str]) -> None:
    results.add(
        "save_new",
        measure(
            [lambda name=name: private.save(name, content_file(SMALL)) for name in names],
            check=lambda saved: None if saved == names else f"saved as {saved[:3]}... (renamed)",
        ),
    )


def run_save_overwrite(results: Results, stores: Storages, run: str) -> None:
    replacing = stores.private(replace=True)
    target = f"over/{run}.txt"
    replacing.save(target, content_file(b"first"))
    payloads = [f"version {i}".encode() for i in range(scale(30))]
    entry = measure(
        [lambda data=data: replacing.save(target, content_file(data)) for data in payloads],
        check=lambda saved: None if set(saved) == {target} else f"saved as {sorted(set(saved))[:3]}",
    )
    if not entry["error"]:
        with replacing.open(target, "rb") as handle:
            if handle.read() != payloads[-1]:
                entry["error"] = "wrong result: the last overwrite is not what the object holds"
    results.add("save_overwrite", entry)


def run_exists_size(results: Results, private, names: list[str], run: str) -> None:
    for name in names:  # normally saved by save_new already; then this costs nothing measured
        if not private.exists(name):
            private.save(name, content_file(SMALL))
    results.add(
        "exists_hit",
        measure(
            [lambda name=name: private.exists(name) for name in names],
            check=lambda out: None if all(out) else "exists() was False for a saved object",
        ),
    )
    results.add(
        "exists_miss",
        measure(
            [lambda i=i: private.exists(f"missing/{run}-{i}") for i in range(len(names))],
            check=lambda out: None if not any(out) else "exists() was True for a missing object",
        ),
    )
    results.add(
        "size",
        measure(
            [lambda name=name: private.size(name) for name in names],
            check=lambda out: None if set(out) == {len(SMALL)} else f"sizes {sorted(set(out))[:3]}",
        ),
    )


def url_check(outputs: list) -> str | None:
    """Every output is a URL, and the first and last ones download the object (status 200)."""
    import urllib3

    if not all(isinstance(url, str) and "://" in url for url in outputs):
        return "not a URL"
    http = urllib3.PoolManager()
    for url in {outputs[0], outputs[-1]}:
        response = http.request("GET", url, retries=False, timeout=10)
        if response.status != 200 or response.data != SMALL:
            return f"GET on the URL answered {response.status}"
    return None


def run_urls(results: Results, stores: Storages, private, names: list[str]) -> None:
    from django.test import override_settings

    calls = scale(200)
    url_names = names[: max(2, scale(20))]
    rounds = [url_names[i % len(url_names)] for i in range(calls)]
    private.url("warmup")  # each storage's first url() builds its signer; measured: steady state
    results.add("url_private", measure([lambda n=n: private.url(n) for n in rounds], check=url_check))
    # 4.x reads the URL-cache switch from top-level settings; this package reads OPTIONS (and
    # falls back to the top level), so both are set.
    with override_settings(MINIO_URL_CACHING_ENABLED=True, MINIO_URL_CACHE_TIMEOUT=3600):
        cached = stores.cached()
        if cached is None:
            note = {"ops": 0, "error": None, "unsupported": "no URL cache in this backend"}
            results.add("url_cached_first", note)
            results.add("url_cached_repeat", note)
        else:
            cached.url("warmup")
            first = [lambda n=n: cached.url(n) for n in url_names]
            results.add("url_cached_first", measure(first, check=url_check))
            repeat = [lambda n=n: cached.url(n) for n in rounds]
            results.add("url_cached_repeat", measure(repeat, check=url_check))
    public = stores.public()
    for name in url_names:  # the objects the public URLs point at (not measured)
        if not public.exists(name):
            public.save(name, content_file(SMALL))
    public.url("warmup")
    results.add("url_public", measure([lambda n=n: public.url(n) for n in rounds], check=url_check))


def run_listdir(results: Results, storage, run: str) -> None:
    files, subdirs = scale(200), 5
    base = f"list-{run}"
    for i in range(files):
        storage.save(f"{base}/f{i:04d}.txt", content_file(b"l"))
    for i in range(subdirs):
        storage.save(f"{base}/sub{i}/inner.txt", content_file(b"l"))

    def check(out) -> str | None:
        for dirs, names in out:
            if sorted(dirs) != [f"sub{i}" for i in range(subdirs)] or len(names) != files:
                return f"{len(dirs)} dirs / {len(names)} files, expected {subdirs} / {files}"
        return None

    results.add("listdir", measure([lambda: storage.listdir(base + "/")] * 5, check=check))


def make_static_tree(root: Path, count: int) -> None:
    for i in range(count):
        folder = root / ("css", "js", "img", "fonts", "vendor/lib")[i % 5]
        folder.mkdir(parents=True, exist_ok=True)
        suffix = (".css", ".js", ".svg", ".txt", ".js")[i % 5]
        (folder / f"asset-{i:04d}{suffix}").write_bytes((f"/* asset {i} */\n" * 64).encode())


def run_collectstatic(results: Results) -> None:
    from django.core.management import call_command

    for key in ("collectstatic_first", "collectstatic_second"):
        entry = measure([lambda: call_command("collectstatic", interactive=False, verbosity=0)])
        entry["files"] = int(os.environ.get("BENCH_STATIC_FILES", "300"))
        results.add(key, entry)


# -- big-object phases (each in a fresh process, so peak RSS is this operation's) ---------------


def peak_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def big_entry(entry: dict[str, Any], before_kib: int, size: int) -> dict[str, Any]:
    seconds = sum(entry.get("times_ms", [])) / 1000
    entry["peak_rss_before_mib"] = before_kib / 1024
    entry["peak_rss_increase_mib"] = (peak_rss_kib() - before_kib) / 1024
    entry["seconds"] = seconds
    entry["mib_per_s"] = (size / 2**20) / seconds if seconds and not entry.get("error") else None
    return entry


def run_bigsave(results: Results, backend: str, server: Server) -> None:
    from django.core.files import File

    path = Path(os.environ["BENCH_BIG_FILE"])
    name = os.environ["BENCH_BIG_NAME"]
    storage = Storages(server, backend).private()
    storage.exists(name + ".warmup")  # imports, client and connection ready before the baseline
    before = peak_rss_kib()
    with path.open("rb") as handle:
        entry = measure(
            [lambda: storage.save(name, File(handle, name=path.name))],
            check=lambda out: None if out == [name] else f"saved as {out[0]!r}",
        )
    results.add("big_save", big_entry(entry, before, path.stat().st_size))


def run_bigread(results: Results, backend: str, server: Server) -> None:
    name = os.environ["BENCH_BIG_NAME"]
    expected = os.environ["BENCH_BIG_SHA256"]
    size = int(os.environ["BENCH_BIG_SIZE"])
    storage = Storages(server, backend).private()
    storage.exists(name)
    before = peak_rss_kib()

    def read_all() -> str:
        digest = hashlib.sha256()
        with storage.open(name, "rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    entry = measure(
        [read_all], check=lambda out: None if out == [expected] else "content differs from what was saved"
    )
    results.add("big_read", big_entry(entry, before, size))


# -- set-up --------------------------------------------------------------------------------------


def configure(backend: str, server: Server, static_root: Path) -> None:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="benchmark-only",
        USE_TZ=True,
        INSTALLED_APPS=installed_apps(backend),
        DATABASES={},
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        STORAGES=storages_setting(server, backend),
        STATIC_URL="/static/",
        STATICFILES_DIRS=[str(static_root)],
        LOGGING_CONFIG=None,
    )
    django.setup()


def versions() -> dict[str, str]:
    from importlib import metadata

    found = {"python": sys.version.split()[0]}
    for dist in (
        "Django",
        "django-minio-backend",
        "minio",
        "django-storages",
        "boto3",
        "botocore",
        "urllib3",
    ):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    try:
        import django_minio_backend

        found["django_minio_backend from"] = str(Path(django_minio_backend.__file__).parent)
    except ImportError:
        pass
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", required=True)
    parser.add_argument("--phase", required=True, choices=("main", "bigsave", "bigread"))
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    results = Results(args.out, args.backend, args.phase)
    server = Server.from_env()
    # Inside the working directory compare.py gives (and removes), even if this worker is killed.
    with tempfile.TemporaryDirectory(prefix="bench-static-", dir=".") as tmp:
        static_root = Path(tmp)
        make_static_tree(static_root, int(os.environ.get("BENCH_STATIC_FILES", "300")))
        try:
            configure(args.backend, server, static_root)
            results.data["env"] = versions()
            results.flush()
            phase = {"main": run_main, "bigsave": run_bigsave, "bigread": run_bigread}[args.phase]
            phase(results, args.backend, server)
        except Exception as exc:
            results.data["fatal"] = error_text(exc)
            results.data["traceback"] = traceback.format_exc()[-2000:]
            results.flush()
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
