"""Start a throw-away single-node Ceph cluster with a RADOS Gateway on a free loopback port.

One monitor, one OSD keeping its data in RAM (memstore), no manager, and radosgw with the beast
frontend. Everything lives in a fresh temporary directory and every command gets ``-c <conf>``,
so nothing reads or writes /etc/ceph or /var/lib/ceph.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import shutil
import string
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from ._process import LOOPBACK, free_ports, http_status, kill_pid, reap, retry_on_lost_port, tail
from .servers import RunningServer, S3Server

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
KMS_KEY_ID = "testkey-1"
USER_ID = "django-minio-backend-tests"
STS_ROLE = "django-minio-backend-tests-role"
EXTRA_STORAGE_CLASS = "REDUCED_REDUNDANCY"

CONFIG = """\
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
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
paxos propose interval = 0.05
paxos min wait = 0.01
# Fail at once when a port is taken (start_rgw retries with new ports) instead of 3 x 5 s.
ms bind retry count = 1

[mon]
mon data = {d}/mon/$id
pid file = {d}/run/$name.pid

[osd]
osd data = {d}/osd/$id
osd objectstore = memstore
memstore device bytes = 2147483648
pid file = {d}/run/$name.pid

[client]
ms mon client mode = crc
rgw data = {d}/rgw

[client.rgw]
rgw frontends = beast endpoint={host}:{rgw_port}
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


def missing_binaries() -> list[str]:
    return [name for name in BINARIES if shutil.which(name) is None]


def available() -> bool:
    """True when every Ceph program the gateway needs is on PATH."""
    return not missing_binaries()


def _random_key(length: int, alphabet: str) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


class _Cluster:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.conf = workdir / "ceph.conf"
        self.fsid = str(uuid.uuid4())
        self.mon_v2, self.mon_v1, self.rgw_port = free_ports(3)
        self.gateway: subprocess.Popen[bytes] | None = None

    def write_config(self) -> None:
        for sub in ("run", "log", "mon/a", "osd/0", "rgw"):
            (self.workdir / sub).mkdir(parents=True)
        self.conf.write_text(
            CONFIG.format(
                fsid=self.fsid,
                host=LOOPBACK,
                mon_v2=self.mon_v2,
                mon_v1=self.mon_v1,
                rgw_port=self.rgw_port,
                d=self.workdir,
                kms_key_id=KMS_KEY_ID,
                kms_key=base64.b64encode(secrets.token_bytes(32)).decode(),
                sts_key=_random_key(16, string.ascii_lowercase + string.digits),
            )
        )

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

    def start_gateway(self) -> subprocess.Popen[bytes]:
        """Start radosgw in the foreground as our child.

        Daemonized, radosgw writes its pid file only after its parent has exited and removes
        it when it fails, so a gateway that dies at once could not be told from a slow one.
        """
        with (self.workdir / "log" / "radosgw.out").open("ab") as out:
            self.gateway = subprocess.Popen(
                ["radosgw", "-c", str(self.conf), "-f", "-n", "client.rgw"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,
            )
        return self.gateway

    def pid(self, daemon: str) -> int | None:
        try:
            return int((self.workdir / "run" / f"{daemon}.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def pids(self) -> tuple[int, ...]:
        """Gateway first, monitor last: the order to stop them in."""
        daemons = tuple(pid for pid in map(self.pid, ("osd.0", "mon.a")) if pid is not None)
        return (self.gateway.pid, *daemons) if self.gateway else daemons

    def logs_tail(self, lines: int = 15) -> str:
        parts = []
        for log in sorted((self.workdir / "log").glob("*")):
            text = tail(log, lines)
            if text:
                parts.append(f"--- {log.name}\n{text}")
        return "\n".join(parts)

    def kill(self) -> None:
        for pid in self.pids():
            kill_pid(pid, group=self.gateway is not None and pid == self.gateway.pid)
        if self.gateway is not None:
            reap(self.gateway)


def _create_cluster(cluster: _Cluster) -> None:
    work = cluster.workdir
    cluster.write_config()
    keyring = str(work / "keyring")
    cluster.run(
        "ceph-authtool", "--create-keyring", keyring, "--gen-key", "-n", "mon.", "--cap", "mon", "allow *"
    )
    mon_addrs = f"[v2:{LOOPBACK}:{cluster.mon_v2},v1:{LOOPBACK}:{cluster.mon_v1}]"
    cluster.run(
        "monmaptool", "--create", "--fsid", cluster.fsid, "--addv", "a", mon_addrs, str(work / "monmap")
    )
    cluster.run("ceph-mon", "--mkfs", "-i", "a", "--monmap", str(work / "monmap"), "--keyring", keyring)
    cluster.spawn("ceph-mon", "-i", "a")
    osd_uuid = str(uuid.uuid4())
    osd_id = cluster.run("ceph", "--connect-timeout", "20", "osd", "new", osd_uuid).strip()
    cluster.run("ceph-osd", "--mkfs", "-i", osd_id, "--osd-uuid", osd_uuid)
    cluster.spawn("ceph-osd", "-i", osd_id)


def _create_user(cluster: _Cluster) -> tuple[str, str]:
    access_key = _random_key(20, string.ascii_uppercase + string.digits)
    secret_key = _random_key(40, string.ascii_letters + string.digits)
    cluster.run(
        "radosgw-admin",
        "user",
        "create",
        f"--uid={USER_ID}",
        "--display-name=django-minio-backend tests",
        f"--access-key={access_key}",
        f"--secret={secret_key}",
    )
    # Without this GetBucketLocation answers "default" and clients sign for that region.
    cluster.run("radosgw-admin", "zonegroup", "modify", "--rgw-zonegroup=default", f"--api-name={REGION}")
    return access_key, secret_key


def _add_storage_class(cluster: _Cluster) -> None:
    """A second storage class in the default placement, stored in the same pool as STANDARD."""
    placement = ("--placement-id=default-placement", f"--storage-class={EXTRA_STORAGE_CLASS}")
    cluster.run("radosgw-admin", "zonegroup", "placement", "add", "--rgw-zonegroup=default", *placement)
    cluster.run(
        "radosgw-admin",
        "zone",
        "placement",
        "add",
        "--rgw-zone=default",
        *placement,
        "--data-pool=default.rgw.buckets.data",
    )


def _create_sts_role(cluster: _Cluster, uid: str) -> str:
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
    out = cluster.run(
        "radosgw-admin",
        "role",
        "create",
        f"--role-name={STS_ROLE}",
        "--path=/",
        f"--assume-role-policy-doc={json.dumps(trust)}",
    )
    cluster.run(
        "radosgw-admin",
        "role-policy",
        "put",
        f"--role-name={STS_ROLE}",
        "--policy-name=allow-s3",
        f"--policy-doc={json.dumps(allow_s3)}",
    )
    role = {key.lower(): value for key, value in json.loads(out).items()}
    return role["arn"]


def _check_it_is_ours(server: S3Server) -> None:
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


def _wait_ready(gateway: subprocess.Popen[bytes], server: S3Server) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if gateway.poll() is not None:
            raise RuntimeError(f"radosgw exited with code {gateway.returncode} during start-up")
        if http_status(server.url + "/") == 200:
            _check_it_is_ours(server)
            return
        time.sleep(0.05)
    raise RuntimeError(f"radosgw not ready at {server.url} after {READY_TIMEOUT:.0f} s")


def _start_once() -> RunningServer:
    started = time.monotonic()
    cluster = _Cluster(Path(tempfile.mkdtemp(prefix="dmb-rgw-")))
    try:
        _create_cluster(cluster)
        access_key, secret_key = _create_user(cluster)
        _add_storage_class(cluster)
        role_arn = _create_sts_role(cluster, USER_ID)
        endpoint = f"{LOOPBACK}:{cluster.rgw_port}"
        server = S3Server(
            kind="rgw",
            endpoint=endpoint,
            access_key=access_key,
            secret_key=secret_key,
            sts_role_arn=role_arn,
            kms_key_id=KMS_KEY_ID,
            storage_classes=("STANDARD", EXTRA_STORAGE_CLASS),
        )
        _wait_ready(cluster.start_gateway(), server)
    except Exception as exc:
        logs = cluster.logs_tail()
        cluster.kill()
        shutil.rmtree(cluster.workdir, ignore_errors=True)
        message = f"Ceph RGW did not start: {exc}\n(work directory {cluster.workdir}, now removed)"
        raise RuntimeError(f"{message}\n{logs}") from exc
    except BaseException:
        cluster.kill()
        shutil.rmtree(cluster.workdir, ignore_errors=True)
        raise
    elapsed = time.monotonic() - started
    running = RunningServer(
        server,
        pids=cluster.pids(),
        workdir=cluster.workdir,
        children=(cluster.gateway,) if cluster.gateway else (),
        startup_seconds=elapsed,
    )
    logger.info("Ceph RGW ready at %s in %.2f s", server.url, elapsed)
    return running


def start_rgw() -> RunningServer:
    """Create the cluster, start radosgw, create an S3 user, and wait until GET / answers 200.

    Raises RuntimeError with the tail of the Ceph logs when anything fails. A start that lost
    one of its ports to another process between choosing and binding it is retried.
    """
    missing = missing_binaries()
    if missing:
        raise RuntimeError(f"Ceph RGW needs these programs on PATH: {', '.join(missing)}")
    return retry_on_lost_port(_start_once, "Ceph RGW")
