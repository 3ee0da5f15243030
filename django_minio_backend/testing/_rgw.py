"""Throw-away Ceph clusters with RADOS Gateways on free loopback ports.

The single node (``start_rgw``) is one monitor, one OSD keeping its data in RAM (memstore), no
manager, and one radosgw with the beast frontend. The test suite's cluster
(``tests/support/cluster.py``) builds on the same :class:`CephCluster` with more OSDs, replicated
pools and several gateways. Everything lives in a fresh temporary directory and every command
gets ``-c <conf>``, so nothing reads or writes /etc/ceph or /var/lib/ceph.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import secrets
import shutil
import signal
import string
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._process import (
    LOOPBACK,
    free_ports,
    http_status,
    kill_pid,
    pid_alive,
    reap,
    retry_on_lost_port,
    tail,
    wait_until,
)
from .server import RunningServer, S3Server

logger = logging.getLogger("django_minio_backend.testing")

BINARIES = (
    "ceph-mon",
    "ceph-osd",
    "radosgw",
    "radosgw-admin",
    "monmaptool",
    "ceph-authtool",
    "ceph",
)
READY_TIMEOUT = 30.0
COMMAND_TIMEOUT = 60.0
REGION = "us-east-1"
GIB = 1024**3
KMS_KEY_ID = "testkey-1"
USER_ID = "django-minio-backend-tests"
STS_ROLE = "django-minio-backend-tests-role"
EXTRA_STORAGE_CLASS = "REDUCED_REDUNDANCY"
# What Ceph RGW 16 does not do here (S3Server.lacks): If-None-Match on CompleteMultipartUpload is
# ignored, and SSE-S3 needs a Vault backend this throw-away cluster does not have.
LACKS = frozenset({"conditional-complete", "sse-s3"})

GLOBAL = """\
[global]
fsid = {fsid}
mon host = [v2:{host}:{mon_v2},v1:{host}:{mon_v1}]
mon initial members = a
public addr = {host}
cluster addr = {host}
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
keyring = {d}/keyring
run dir = {d}/run
admin socket = {d}/run/$name.asok
log file = {d}/log/$name.log
log to stderr = false
err to stderr = false
mon cluster log file = {d}/log/cluster.log
mon data avail warn = 0
mon data avail crit = 0
osd pool default size = {size}
osd pool default min size = {min_size}
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
# Replicas go to different OSDs, not different hosts: every OSD runs on this one machine.
osd crush chooseleaf type = 0
mon allow pool size one = {size_one}
mon warn on pool no redundancy = false
mon max pg per osd = 1000
paxos propose interval = 0.05
paxos min wait = 0.01
# A dead OSD is reported by its peers within seconds (the default grace is 20 s).
osd heartbeat interval = 1
osd heartbeat grace = 5
# Fail at once when a port is taken (start_rgw retries with new ports) instead of 3 x 5 s.
ms bind retry count = 1

[mon]
mon data = {d}/mon/$id
pid file = {d}/run/$name.pid

[osd]
osd data = {d}/osd/$id
osd objectstore = memstore
memstore device bytes = {memstore_bytes}
pid file = {d}/run/$name.pid

[client]
ms mon client mode = crc
rgw data = {d}/rgw
# Server-side encryption over plain http on loopback: SSE-C, and SSE-KMS with a throw-away key
# from Ceph's "testing" key backend (SSE-S3 needs Vault, which this server does not have).
rgw crypt require ssl = false
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = {kms_key_id}={kms_key}
# STS: AssumeRole hands out temporary credentials for the role created at start-up.
rgw sts key = {sts_key}
rgw s3 auth use sts = true
# STS last: with it first, a wrong secret is answered AccessDenied instead of SignatureDoesNotMatch.
rgw s3 auth order = external, local, sts
# Lifecycle workers sleep 5 s between lock attempts and hold up shutdown by that long.
rgw enable lc threads = false
"""

GATEWAY = """
[client.{name}]
rgw frontends = beast endpoint={host}:{port}
"""


@dataclass(frozen=True)
class Layout:
    """How many OSDs and gateways a cluster has and how its pools replicate."""

    osds: int = 1
    gateways: tuple[str, ...] = ("rgw",)
    pool_size: int = 1
    pool_min_size: int = 1
    memstore_bytes: int = 2 * GIB


SINGLE_NODE = Layout()


def missing_binaries() -> list[str]:
    return [name for name in BINARIES if shutil.which(name) is None]


def available() -> bool:
    """True when every Ceph program the gateway needs is on PATH."""
    return not missing_binaries()


def _random_key(length: int, alphabet: str) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


class CephCluster:
    """The daemons of one throw-away cluster: a monitor, ``layout.osds`` OSDs and the gateways.

    Monitor and OSDs daemonize and write pid files; each gateway runs in the foreground as our
    child in its own session. Gateways are named ``client.<name>`` in Ceph.
    """

    def __init__(self, workdir: Path, layout: Layout = SINGLE_NODE) -> None:
        self.workdir = workdir
        self.layout = layout
        self.conf = workdir / "ceph.conf"
        self.fsid = str(uuid.uuid4())
        self.mon_v2, self.mon_v1, *ports = free_ports(2 + len(layout.gateways))
        self.gateway_ports = dict(zip(layout.gateways, ports, strict=True))
        self.gateways: dict[str, subprocess.Popen[bytes]] = {}

    def gateway_endpoint(self, name: str) -> str:
        return f"{LOOPBACK}:{self.gateway_ports[name]}"

    def write_config(self) -> None:
        subdirs = ["run", "log", "mon/a", "rgw", *(f"osd/{i}" for i in range(self.layout.osds))]
        for sub in subdirs:
            (self.workdir / sub).mkdir(parents=True)
        layout = self.layout
        text = GLOBAL.format(
            fsid=self.fsid,
            host=LOOPBACK,
            mon_v2=self.mon_v2,
            mon_v1=self.mon_v1,
            d=self.workdir,
            size=layout.pool_size,
            min_size=layout.pool_min_size,
            size_one=str(layout.pool_size == 1).lower(),
            memstore_bytes=layout.memstore_bytes,
            kms_key_id=KMS_KEY_ID,
            kms_key=base64.b64encode(secrets.token_bytes(32)).decode(),
            sts_key=_random_key(16, string.ascii_lowercase + string.digits),
        )
        for name, port in self.gateway_ports.items():
            text += GATEWAY.format(name=name, host=LOOPBACK, port=port)
        self.conf.write_text(text)

    def run(self, program: str, *args: str) -> str:
        """Run a Ceph command to completion and return its standard output."""
        argv = [program, "-c", str(self.conf), *args]
        result = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            cwd=self.workdir,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr}")
        return result.stdout

    def spawn(self, program: str, *args: str) -> None:
        """Start a daemon; it forks into the background and writes its pid file."""
        with (self.workdir / "log" / "daemons.out").open("ab") as out:
            subprocess.run(
                [program, "-c", str(self.conf), *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=COMMAND_TIMEOUT,
                cwd=self.workdir,
                check=True,
            )

    def create(self) -> None:
        """Write the configuration, make and start the monitor and every OSD."""
        work = self.workdir
        self.write_config()
        keyring = str(work / "keyring")
        self.run(
            "ceph-authtool", "--create-keyring", keyring, "--gen-key", "-n", "mon.", "--cap", "mon", "allow *"
        )
        mon_addrs = f"[v2:{LOOPBACK}:{self.mon_v2},v1:{LOOPBACK}:{self.mon_v1}]"
        self.run(
            "monmaptool", "--create", "--fsid", self.fsid, "--addv", "a", mon_addrs, str(work / "monmap")
        )
        self.run("ceph-mon", "--mkfs", "-i", "a", "--monmap", str(work / "monmap"), "--keyring", keyring)
        self.spawn("ceph-mon", "-i", "a")
        for _ in range(self.layout.osds):
            osd_uuid = str(uuid.uuid4())
            osd_id = self.run("ceph", "--connect-timeout", "20", "osd", "new", osd_uuid).strip()
            self.run("ceph-osd", "--mkfs", "-i", osd_id, "--osd-uuid", osd_uuid)
            self.spawn("ceph-osd", "-i", osd_id)

    def osds_up(self) -> int:
        """How many OSDs the monitor counts as up."""
        return int(json.loads(self.run("ceph", "osd", "stat", "-f", "json"))["num_up_osds"])

    def wait_osds_up(self, count: int, timeout: float = READY_TIMEOUT) -> None:
        if not wait_until(lambda: self.osds_up() == count, timeout, interval=0.1):
            raise RuntimeError(f"{count} OSDs not up after {timeout:.0f} s ({self.osds_up()} up)")

    def create_user(self) -> tuple[str, str]:
        access_key = _random_key(20, string.ascii_uppercase + string.digits)
        secret_key = _random_key(40, string.ascii_letters + string.digits)
        self.run(
            "radosgw-admin",
            "user",
            "create",
            f"--uid={USER_ID}",
            "--display-name=django-minio-backend tests",
            f"--access-key={access_key}",
            f"--secret={secret_key}",
        )
        # Without this GetBucketLocation answers "default" and clients sign for that region.
        self.run("radosgw-admin", "zonegroup", "modify", "--rgw-zonegroup=default", f"--api-name={REGION}")
        return access_key, secret_key

    def add_storage_class(self) -> None:
        """A second storage class in the default placement, stored in the same pool as STANDARD."""
        placement = ("--placement-id=default-placement", f"--storage-class={EXTRA_STORAGE_CLASS}")
        self.run("radosgw-admin", "zonegroup", "placement", "add", "--rgw-zonegroup=default", *placement)
        self.run(
            "radosgw-admin",
            "zone",
            "placement",
            "add",
            "--rgw-zone=default",
            *placement,
            "--data-pool=default.rgw.buckets.data",
        )

    def create_sts_role(self, uid: str) -> str:
        """A role the test user may assume (STS AssumeRole), allowed every S3 action. Returns its ARN."""
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": [f"arn:aws:iam:::user/{uid}"]},
                    "Action": ["sts:AssumeRole"],
                }
            ],
        }
        allow_s3 = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["s3:*"], "Resource": ["arn:aws:s3:::*"]}],
        }
        out = self.run(
            "radosgw-admin",
            "role",
            "create",
            f"--role-name={STS_ROLE}",
            "--path=/",
            f"--assume-role-policy-doc={json.dumps(trust)}",
        )
        self.run(
            "radosgw-admin",
            "role-policy",
            "put",
            f"--role-name={STS_ROLE}",
            "--policy-name=allow-s3",
            f"--policy-doc={json.dumps(allow_s3)}",
        )
        role = {key.lower(): value for key, value in json.loads(out).items()}
        return role["arn"]

    def start_gateway(self, name: str) -> subprocess.Popen[bytes]:
        """Start radosgw ``client.<name>`` in the foreground as our child.

        Daemonized, radosgw writes its pid file only after its parent has exited and removes
        it when it fails, so a gateway that dies at once could not be told from a slow one.
        """
        with (self.workdir / "log" / f"{name}.out").open("ab") as out:
            gateway = subprocess.Popen(
                ["radosgw", "-c", str(self.conf), "-f", "-n", f"client.{name}"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,
            )
        self.gateways[name] = gateway
        return gateway

    def wait_gateway(self, name: str, server: S3Server) -> None:
        """Wait until gateway ``name`` answers GET / with 200 and accepts ``server``'s keys."""
        gateway = self.gateways[name]
        endpoint = self.gateway_endpoint(name)
        direct = dataclasses.replace(server, endpoint=endpoint)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if gateway.poll() is not None:
                raise RuntimeError(f"radosgw {name} exited with code {gateway.returncode} during start-up")
            if http_status(direct.url + "/") == 200:
                check_it_is_ours(direct)
                return
            time.sleep(0.05)
        raise RuntimeError(f"radosgw {name} not ready at {direct.url} after {READY_TIMEOUT:.0f} s")

    def kill_gateway(self, name: str) -> None:
        """SIGKILL gateway ``name`` (as a crash would) and reap it."""
        gateway = self.gateways[name]
        kill_pid(gateway.pid, group=True, sig=signal.SIGKILL)
        reap(gateway)

    def pid(self, daemon: str) -> int | None:
        try:
            return int((self.workdir / "run" / f"{daemon}.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def osd_pids(self) -> dict[int, int]:
        """Live OSDs: id -> pid."""
        found = {i: self.pid(f"osd.{i}") for i in range(self.layout.osds)}
        return {i: pid for i, pid in found.items() if pid is not None and pid_alive(pid)}

    def kill_osd(self, osd_id: int) -> None:
        """SIGKILL OSD ``osd_id``; its memstore data is gone with it."""
        pid = self.osd_pids()[osd_id]
        kill_pid(pid, sig=signal.SIGKILL)

    def pids(self) -> tuple[int, ...]:
        """Gateways first, monitor last: the order to stop them in."""
        daemons = [self.pid(f"osd.{i}") for i in range(self.layout.osds)] + [self.pid("mon.a")]
        gateways = [gateway.pid for gateway in self.gateways.values()]
        return (*gateways, *(pid for pid in daemons if pid is not None))

    def children(self) -> tuple[subprocess.Popen[bytes], ...]:
        return tuple(self.gateways.values())

    def logs_tail(self, lines: int = 15) -> str:
        parts = []
        for log in sorted((self.workdir / "log").glob("*")):
            text = tail(log, lines)
            if text:
                parts.append(f"--- {log.name}\n{text}")
        return "\n".join(parts)

    def kill(self) -> None:
        own_sessions = {gateway.pid for gateway in self.gateways.values()}
        for pid in self.pids():
            kill_pid(pid, group=pid in own_sessions)
        for gateway in self.gateways.values():
            reap(gateway)


def check_it_is_ours(server: S3Server) -> None:
    """Our random keys must work and a wrong secret must fail: else another server has the port."""
    from minio import Minio
    from minio.error import S3Error

    try:
        server.client().list_buckets()
    except Exception as exc:
        raise RuntimeError(f"{server.endpoint} is another server (Address already in use): {exc}") from exc
    impostor = Minio(
        endpoint=server.endpoint, access_key=server.access_key, secret_key="x" * 40, secure=False
    )
    try:
        impostor.list_buckets()
    except S3Error:
        return
    raise RuntimeError(f"{server.endpoint} accepts any secret: another server (Address already in use)")


def build(
    layout: Layout, prefix: str, label: str, finish: Callable[[CephCluster, S3Server], RunningServer]
) -> RunningServer:
    """Create a cluster of ``layout``, start its gateways and let ``finish`` make the handle.

    On any failure every daemon is stopped, the work directory removed, and RuntimeError raised
    with the tail of the logs.
    """
    cluster = CephCluster(Path(tempfile.mkdtemp(prefix=prefix)), layout)
    try:
        cluster.create()
        if layout.osds > 1:
            cluster.wait_osds_up(layout.osds)
        access_key, secret_key = cluster.create_user()
        cluster.add_storage_class()
        role_arn = cluster.create_sts_role(USER_ID)
        for name in layout.gateways:
            cluster.start_gateway(name)
        server = S3Server(
            kind="rgw",
            endpoint=cluster.gateway_endpoint(layout.gateways[0]),
            access_key=access_key,
            secret_key=secret_key,
            sts_role_arn=role_arn,
            kms_key_id=KMS_KEY_ID,
            storage_classes=("STANDARD", EXTRA_STORAGE_CLASS),
            lacks=LACKS,
        )
        for name in layout.gateways:
            cluster.wait_gateway(name, server)
        return finish(cluster, server)
    except Exception as exc:
        logs = cluster.logs_tail()
        cluster.kill()
        shutil.rmtree(cluster.workdir, ignore_errors=True)
        message = f"{label} did not start: {exc}\n(work directory {cluster.workdir}, now removed)"
        raise RuntimeError(f"{message}\n{logs}") from exc
    except BaseException:
        cluster.kill()
        shutil.rmtree(cluster.workdir, ignore_errors=True)
        raise


def _single_node(cluster: CephCluster, server: S3Server) -> RunningServer:
    return RunningServer(server, pids=cluster.pids(), workdir=cluster.workdir, children=cluster.children())


def _start_once() -> RunningServer:
    started = time.monotonic()
    running = build(SINGLE_NODE, "dmb-rgw-", "Ceph RGW", _single_node)
    running.startup_seconds = time.monotonic() - started
    logger.info("Ceph RGW ready at %s in %.2f s", running.server.url, running.startup_seconds)
    return running


def require_binaries(label: str) -> None:
    missing = missing_binaries()
    if missing:
        raise RuntimeError(f"{label} needs these programs on PATH: {', '.join(missing)}")


def start_rgw() -> RunningServer:
    """Create the cluster, start radosgw, create an S3 user, and wait until GET / answers 200.

    Raises RuntimeError with the tail of the Ceph logs when anything fails. A start that lost
    one of its ports to another process between choosing and binding it is retried.
    """
    require_binaries("Ceph RGW")
    return retry_on_lost_port(_start_once, "Ceph RGW")
