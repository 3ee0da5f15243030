#!/usr/bin/env python
"""Run the example project: ``make demo`` calls this.

Without MINIO_ENDPOINT in the environment it starts an embedded S3 server (moto, no root, no
Docker) and a throw-away SQLite database, and stops that server again on Ctrl-C. With
MINIO_ENDPOINT (plus MINIO_ACCESS_KEY and MINIO_SECRET_KEY) it uses that server instead, and the
database in examples/db.sqlite3 (or DJANGO_DB_PATH).

Then it migrates, creates the buckets, collects static files into the static bucket, creates
the demo admin user, seeds a few files and serves on http://127.0.0.1:8000.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default=os.environ.get("DEMO_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", "8000")))
    return parser.parse_args()


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def start_embedded_s3():
    """Start moto on a free loopback port and point the project's settings at it."""
    from django_minio_backend.testing import start_server

    running = start_server("moto")
    server = running.server
    os.environ.update(
        MINIO_ENDPOINT=server.endpoint,
        MINIO_ACCESS_KEY=server.access_key,
        MINIO_SECRET_KEY=server.secret_key,
        MINIO_REGION=server.region,
    )
    os.environ.setdefault("DJANGO_DB_PATH", str(Path(running.workdir or tempfile.mkdtemp()) / "demo.sqlite3"))
    print(f"embedded S3 server (moto) at {server.url}, pid {running.pids[0]}", flush=True)
    return running


def prepare() -> None:
    from django.core.management import call_command

    steps = [
        ("migrate", lambda: call_command("migrate", verbosity=0)),
        ("initialize_buckets", lambda: call_command("initialize_buckets", verbosity=0)),
        ("collectstatic", lambda: call_command("collectstatic", interactive=False, verbosity=0)),
        ("seed", lambda: call_command("seed_demo")),
    ]
    for label, step in steps:
        started = time.monotonic()
        step()
        print(f"  {label}: {time.monotonic() - started:.1f} s", flush=True)


def banner(host: str, port: int) -> None:
    from django.conf import settings

    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # a container listens on all addresses
    print(
        "\n"
        f"  django-minio-backend demo: http://{shown}:{port}/\n"
        f"  admin login: {settings.DEMO_ADMIN_USER} / {settings.DEMO_ADMIN_PASSWORD}"
        f"  (http://{shown}:{port}/admin/)\n"
        f"  S3 endpoint: {os.environ.get('MINIO_ENDPOINT')}   health: http://{shown}:{port}/health/\n"
        "  Press Ctrl-C to stop.\n",
        flush=True,
    )


def main() -> int:
    args = parse_args()
    if port_in_use(args.host, args.port):
        print(f"run_demo: {args.host}:{args.port} is in use; pass --port or set DEMO_PORT.", file=sys.stderr)
        return 2
    sys.path.insert(0, str(EXAMPLES))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_project.settings")
    # Ctrl-C works even when a parent started us with SIGINT ignored, and SIGTERM stops the demo
    # the same way, so the embedded server is always stopped.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    running = None if os.environ.get("MINIO_ENDPOINT") else start_embedded_s3()
    try:
        import django
        from django.core.management import call_command

        django.setup()
        prepare()
        banner(args.host, args.port)
        call_command("runserver", f"{args.host}:{args.port}", use_reloader=False)
    except KeyboardInterrupt:
        pass
    finally:
        if running is not None:
            running.stop()
            print(f"stopped the embedded S3 server (pid {running.pids[0]})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
