"""A throw-away OpenStack Swift with its S3 API (s3api) on free loopback ports.

One node, no systemd: memcached (tempauth needs a cache), and the account, container, object and
proxy servers, each with ``workers = 0`` so that it stays a single process. Rings (1 replica, one
device, part power 8) and every configuration file, ``swift.conf`` included, live in a fresh
temporary directory: nothing reads or writes /etc/swift. Swift reads ``swift.conf`` from a
hard-wired path (``swift.common.utils.SWIFT_CONF_FILE``), so each server is launched through a
small wrapper that points that constant at our file before Swift reads it; the wrapper runs with
the interpreter of ``swift-proxy-server``'s ``#!`` line (Debian's python3), which has the packages.

Swift's s3api checks SigV4 signatures (headers and presigned URLs) but lacks many S3 features; see
:data:`LACKS` and ``S3Server.lacks``.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ._process import LOOPBACK, free_ports, http_status, kill_pid, reap, retry_on_lost_port, tail
from .server import RunningServer, S3Server

logger = logging.getLogger("django_minio_backend.testing")

BINARIES = (
    "memcached",
    "swift-proxy-server",
    "swift-account-server",
    "swift-container-server",
    "swift-object-server",
)
ACCESS_KEY = "test:tester"  # tempauth's account:user
SECRET_KEY = "testing"
REGION = "us-east-1"
READY_TIMEOUT = 40.0
SERVERS = ("account", "container", "object")  # the storage servers, started before the proxy

# What Swift 2.30's s3api does not do, as observed against it (see the README's "Servers"):
LACKS = frozenset(
    {
        "conditional-put",  # If-None-Match: * on PUT answers 501 (on CompleteMultipartUpload it is honoured)
        "bucket-policies",  # 501: no public bucket through S3
        "presigned-post",  # a browser form POST answers 412
        "tagging",  # 501
        "sse-s3",  # 501
        "sse-c",  # accepted but stored in plaintext, unconfirmed
        "sse-kms",
        "object-lock",  # ignored
        "cors",
        "anonymous-403",  # anonymous requests get 400/412, never 403
        "exact-last-modified",  # LastModified is rounded up to the next second
        "long-metadata",  # user metadata values over 256 bytes give 500
        "storage-classes",
        "sts",
        "empty-delimiter-uploads",  # ListMultipartUploads with delimiter= folds uploads into a prefix
        "lifecycle",  # PutBucketLifecycle answers MalformedXML to a valid rule
    }
)

# Run as: <python> wrapper.py <swift.conf> rings <dir> <account port> <container port> <object port>
#     or: <python> wrapper.py <swift.conf> run <swift-*-server script> <args...>
WRAPPER = """\
import logging
import runpy
import sys

from swift.common import utils

utils.SWIFT_CONF_FILE = sys.argv[1]  # before storage_policy and constraints read it
# Swift logs to syslog; there is none here: log only to stderr (run with -v), our log file.
utils.ThreadSafeSysLogHandler = lambda *args, **kwargs: logging.NullHandler()

if sys.argv[2] == "rings":
    from swift.common.ring import RingBuilder

    directory = sys.argv[3]
    for kind, port in zip(("account", "container", "object"), sys.argv[4:7]):
        builder = RingBuilder(8, 1, 1)
        builder.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port),
                         "device": "d1", "weight": 100, "meta": ""})
        builder.rebalance()
        builder.get_ring().save(f"{directory}/{kind}.ring.gz")
else:
    script = sys.argv[3]
    sys.argv = [script] + sys.argv[4:]
    runpy.run_path(script, run_name="__main__")
"""

SWIFT_CONF = """\
[swift-hash]
swift_hash_path_prefix = {prefix}
swift_hash_path_suffix = {suffix}

[storage-policy:0]
name = Policy-0
default = yes
"""

COMMON = """\
[DEFAULT]
bind_ip = {host}
bind_port = {port}
workers = 0
mount_check = false
disable_fallocate = true
devices = {devices}
swift_dir = {etc}
log_level = WARNING
bind_timeout = 2
"""

STORAGE_SERVER = """\
[pipeline:main]
pipeline = {kind}-server

[app:{kind}-server]
use = egg:swift#{kind}
{extra}
"""

PIPELINE = (
    "catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl s3api tempauth"
    " copy slo dlo versioned_writes symlink proxy-logging proxy-server"
)
FILTERS = (
    "catch_errors",
    "gatekeeper",
    "healthcheck",
    "proxy-logging",
    "listing_formats",
    "bulk",
    "tempurl",
    "copy",
    "slo",
    "dlo",
    "symlink",
)
PROXY = """\
[pipeline:main]
pipeline = {pipeline}

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:cache]
use = egg:swift#memcache
memcache_servers = {host}:{memcached}

[filter:s3api]
use = egg:swift#s3api
location = {region}

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = {secret} .admin

[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_object_versioning = true

{filters}
"""


def missing_binaries() -> list[str]:
    return [name for name in BINARIES if shutil.which(name) is None]


def available() -> bool:
    """True when memcached and the Swift servers are on PATH."""
    return not missing_binaries()


def interpreter() -> str:
    """The Python that runs Swift: the one named in ``swift-proxy-server``'s ``#!`` line."""
    script = shutil.which("swift-proxy-server")
    if script is None:
        raise RuntimeError("OpenStack Swift needs swift-proxy-server on PATH")
    first = Path(script).read_text(errors="replace").splitlines()[0]
    if not first.startswith("#!"):
        raise RuntimeError(f"{script} has no #! line naming its Python")
    return first[2:].strip().split()[0]


class SwiftNode:
    """The files and processes of one node under ``workdir``."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.etc = workdir / "etc"
        self.logs = workdir / "log"
        self.devices = workdir / "srv"
        self.python = interpreter()
        self.ports = dict(zip(("memcached", "proxy", *SERVERS), free_ports(5), strict=True))
        self.children: list[subprocess.Popen[bytes]] = []

    @property
    def endpoint(self) -> str:
        return f"{LOOPBACK}:{self.ports['proxy']}"

    def write_config(self) -> None:
        for folder in (self.etc, self.logs, self.devices / "d1"):
            folder.mkdir(parents=True)
        (self.etc / "wrapper.py").write_text(WRAPPER)
        (self.etc / "swift.conf").write_text(
            SWIFT_CONF.format(prefix=secrets.token_hex(8), suffix=secrets.token_hex(8))
        )
        for kind in (*SERVERS, "proxy"):
            common = COMMON.format(host=LOOPBACK, port=self.ports[kind], devices=self.devices, etc=self.etc)
            if kind == "proxy":
                filters = "\n".join(
                    f"[filter:{name}]\nuse = egg:swift#{name.replace('-', '_')}\n" for name in FILTERS
                )
                body = PROXY.format(
                    pipeline=PIPELINE,
                    host=LOOPBACK,
                    memcached=self.ports["memcached"],
                    region=REGION,
                    secret=SECRET_KEY,
                    filters=filters,
                )
            else:
                # no updater runs to repair a listing update that timed out
                extra = "container_update_timeout = 10" if kind == "object" else ""
                body = STORAGE_SERVER.format(kind=kind, extra=extra)
            (self.etc / f"{kind}-server.conf").write_text(common + "\n" + body)

    def _wrapper(self, *args: str) -> list[str]:
        return [self.python, str(self.etc / "wrapper.py"), str(self.etc / "swift.conf"), *args]

    def build_rings(self) -> None:
        ports = [str(self.ports[kind]) for kind in SERVERS]
        result = subprocess.run(
            self._wrapper("rings", str(self.etc), *ports),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"building the Swift rings failed:\n{result.stderr.decode(errors='replace')}")

    def _spawn(self, name: str, command: list[str]) -> None:
        with (self.logs / f"{name}.log").open("wb") as out:
            self.children.append(
                subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=self.workdir,
                    start_new_session=True,
                )
            )

    def start(self) -> None:
        memcached = ["memcached", "-l", LOOPBACK, "-p", str(self.ports["memcached"]), "-U", "0", "-m", "64"]
        self._spawn("memcached", [*memcached, "-u", "root"] if _is_root() else memcached)
        for kind in (*SERVERS, "proxy"):
            script = shutil.which(f"swift-{kind}-server")
            assert script is not None  # checked by require_binaries
            self._spawn(kind, self._wrapper("run", script, str(self.etc / f"{kind}-server.conf"), "-v"))

    def exited(self) -> str | None:
        for child in self.children:
            if child.poll() is not None:
                name = Path(child.args[-2] if len(child.args) > 3 else child.args[0]).name
                if "Could not bind" in self.logs_tail():  # Swift's words for a port taken meanwhile
                    return f"{name} exited: Address already in use"
                return f"{name} exited with code {child.returncode}"
        return None

    def logs_tail(self, lines: int = 15) -> str:
        parts = []
        for log in sorted(self.logs.glob("*.log")):
            text = tail(log, lines)
            if text:
                parts.append(f"--- {log.name}\n{text}")
        return "\n".join(parts)

    def kill(self) -> None:
        for child in reversed(self.children):
            kill_pid(child.pid, group=True)
            reap(child)


def _is_root() -> bool:
    import os

    return os.geteuid() == 0


def _wait_ready(node: SwiftNode, server: S3Server) -> None:
    from minio.error import S3Error

    deadline = time.monotonic() + READY_TIMEOUT
    last: object = None
    while time.monotonic() < deadline:
        problem = node.exited()
        if problem is not None:
            raise RuntimeError(problem)
        if http_status(f"{server.url}/healthcheck") == 200:
            try:
                server.client().list_buckets()
            except S3Error as exc:  # storage servers or memcached not answering yet
                last = exc
            except Exception as exc:
                last = exc
            else:
                return
        time.sleep(0.1)
    raise RuntimeError(f"Swift not ready at {server.url} after {READY_TIMEOUT:.0f} s (last: {last})")


def _check_it_is_ours(server: S3Server) -> None:
    from minio import Minio
    from minio.error import S3Error

    impostor = Minio(
        endpoint=server.endpoint, access_key=server.access_key, secret_key="x" * 20, secure=False
    )
    try:
        impostor.list_buckets()
    except S3Error:
        return
    raise RuntimeError(f"{server.endpoint} accepts any secret: another server (Address already in use)")


def _start_once() -> RunningServer:
    started = time.monotonic()
    node = SwiftNode(Path(tempfile.mkdtemp(prefix="dmb-swift-")))
    server = S3Server(
        kind="swift",
        endpoint=node.endpoint,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        region=REGION,
        lacks=LACKS,
    )
    try:
        node.write_config()
        node.build_rings()
        node.start()
        _wait_ready(node, server)
        _check_it_is_ours(server)
    except Exception as exc:
        logs = node.logs_tail()
        node.kill()
        shutil.rmtree(node.workdir, ignore_errors=True)
        message = f"OpenStack Swift did not start: {exc}\n(work directory {node.workdir}, now removed)"
        raise RuntimeError(f"{message}\n{logs}") from exc
    except BaseException:
        node.kill()
        shutil.rmtree(node.workdir, ignore_errors=True)
        raise
    children = tuple(reversed(node.children))  # the proxy first, memcached last
    running = RunningServer(
        server, pids=tuple(child.pid for child in children), workdir=node.workdir, children=children
    )
    running.startup_seconds = time.monotonic() - started
    logger.info("OpenStack Swift (s3api) ready at %s in %.2f s", server.url, running.startup_seconds)
    return running


def require_binaries() -> None:
    missing = missing_binaries()
    if missing:
        raise RuntimeError(
            "OpenStack Swift needs these programs on PATH: "
            + ", ".join(missing)
            + " (apt-get install swift-proxy swift-account swift-container swift-object python3-swift"
            " memcached)"
        )


def start_swift() -> RunningServer:
    """Start memcached and a single-node Swift with s3api; wait until a signed ListBuckets works.

    Raises RuntimeError with the tail of the logs when anything fails. A start that lost one of
    its ports to another process between choosing and binding it is retried.
    """
    require_binaries()
    return retry_on_lost_port(_start_once, "OpenStack Swift")
