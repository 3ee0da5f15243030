"""A Ceph cluster on this machine: 3 OSDs, pools replicated 3 ways, 2 gateways behind HAProxy.

``start_rgw_cluster()`` builds on the single node's ``CephCluster`` (``testing/_rgw.py``) with
:data:`CLUSTER`, then starts Debian's HAProxy in front of the gateways on another free loopback
port. The S3 endpoint of the returned :class:`RunningCluster` is the balancer; the gateways can
also be reached directly, killed and restarted (for failover tests and benchmarks).

It is the project's own harness, not shipped in the wheel: ``tests/conftest.py`` registers it as
the server kind ``rgw-cluster`` (``MINIO_TEST_SERVER=rgw-cluster``, ``make test-cluster``), and
``benchmarks/cluster.py`` starts it directly.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import shutil
import socket
import subprocess
import time
from pathlib import Path

from django_minio_backend.testing import _rgw
from django_minio_backend.testing._process import (
    LOOPBACK,
    free_ports,
    http_status,
    pid_alive,
    retry_on_lost_port,
    tail,
    wait_until,
)
from django_minio_backend.testing.server import RunningServer, S3Server, register_kind

logger = logging.getLogger("django_minio_backend.testing")

KIND = "rgw-cluster"
CLUSTER = _rgw.Layout(
    osds=3,
    gateways=("rgw.a", "rgw.b"),
    pool_size=3,
    pool_min_size=2,
    memstore_bytes=2 * _rgw.GIB,  # the suite writes several hundred MiB; a full OSD blocks writes
)
READY_TIMEOUT = 30.0

# Health checks and retries, tuned for failover in about a second (see CONTRIBUTE.md):
# - `observe layer4` + `on-error mark-down`: the first refused or reset connection takes a gateway
#   out at once; the GET / check every 250 ms (`downinter`) brings it back after 2 good answers.
# - `retry-on conn-failure empty-response response-timeout` with `option redispatch 1`: a request
#   that never got an answer is sent again, to the other gateway, except POSTs and conditional
#   creates (If-None-Match), which the gateway may have carried out before it died.
HAPROXY = """\
global
    maxconn 1024
    stats socket {run}/haproxy.sock mode 600 level admin

defaults
    mode http
    timeout connect 1s
    timeout client 120s
    timeout server 120s
    timeout http-request 30s
    timeout queue 10s
    timeout check 1s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout

frontend s3
    bind {host}:{port}
    default_backend gateways

backend gateways
    balance roundrobin
    http-request disable-l7-retry if METH_POST || {{ req.hdr(if-none-match) -m found }}
    option httpchk GET /
    http-check expect status 200
    default-server inter 1s fastinter 250ms downinter 250ms fall 2 rise 2
    default-server observe layer4 error-limit 1 on-error mark-down
{servers}
"""


def missing_binaries() -> list[str]:
    return _rgw.missing_binaries() + ([] if shutil.which("haproxy") else ["haproxy"])


def available() -> bool:
    """True when Ceph's programs and haproxy are on PATH."""
    return not missing_binaries()


class RunningCluster(RunningServer):
    """A running cluster: ``server`` is the balancer; gateways and OSDs can be killed by name/id."""

    def __init__(
        self,
        server: S3Server,
        cluster: _rgw.CephCluster,
        balancer: subprocess.Popen[bytes],
        startup_seconds: float = 0.0,
    ) -> None:
        super().__init__(server, workdir=cluster.workdir, startup_seconds=startup_seconds)
        self.cluster = cluster
        self.balancer = balancer

    @property
    def pids(self) -> tuple[int, ...]:
        """Balancer first, then gateways, OSDs, and the monitor last."""
        return (self.balancer.pid, *self.cluster.pids())

    @property
    def children(self) -> tuple[subprocess.Popen[bytes], ...]:
        return (self.balancer, *self.cluster.children())

    @property
    def gateways(self) -> tuple[str, ...]:
        return self.cluster.layout.gateways

    def gateway_server(self, name: str) -> S3Server:
        """The same keys, talking to gateway ``name`` directly instead of through the balancer."""
        return dataclasses.replace(self.server, endpoint=self.cluster.gateway_endpoint(name))

    def kill_gateway(self, name: str) -> None:
        """SIGKILL gateway ``name``, as a crash would."""
        self.cluster.kill_gateway(name)

    def restart_gateway(self, name: str) -> None:
        """Start gateway ``name`` again on its port and wait until it serves."""
        self.cluster.start_gateway(name)
        self.cluster.wait_gateway(name, self.server)

    def balancer_states(self) -> dict[str, str]:
        """HAProxy's view of each gateway: ``UP``, ``DOWN``, ``MAINT``... (from its stats socket)."""
        rows = csv.reader(_stats_socket(self.workdir / "run" / "haproxy.sock", "show stat").splitlines())
        header = next(rows)
        name, status = header.index("svname"), header.index("status")
        return {
            row[name]: row[status].split()[0]
            for row in rows
            if row and row[0] == "gateways" and row[name] not in ("BACKEND", "FRONTEND")
        }

    def wait_balanced(self, timeout: float = READY_TIMEOUT) -> bool:
        """Wait until the balancer sends to every gateway again."""
        return wait_until(lambda: set(self.balancer_states().values()) == {"UP"}, timeout, 0.05)

    def kill_osd(self, osd_id: int) -> None:
        """SIGKILL OSD ``osd_id``. It stays down: memstore keeps its data in that process only."""
        self.cluster.kill_osd(osd_id)

    def osds_up(self) -> int:
        """How many OSDs the monitor counts as up."""
        return self.cluster.osds_up()

    def rss_bytes(self) -> int:
        """Resident memory of every live daemon, balancer included, summed."""
        total = 0
        for pid in self.pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        return total


def _stats_socket(path: Path, command: str) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(2.0)
        sock.connect(str(path))
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode().lstrip("# ")


def _write_haproxy_config(cluster: _rgw.CephCluster, port: int) -> Path:
    servers = "\n".join(
        f"    server {name.removeprefix('rgw.')} {cluster.gateway_endpoint(name)} check"
        for name in cluster.layout.gateways
    )
    config = cluster.workdir / "haproxy.cfg"
    config.write_text(HAPROXY.format(run=cluster.workdir / "run", host=LOOPBACK, port=port, servers=servers))
    return config


def _start_balancer(cluster: _rgw.CephCluster, server: S3Server) -> RunningCluster:
    port = free_ports(1)[0]
    config = _write_haproxy_config(cluster, port)
    log = cluster.workdir / "log" / "haproxy.out"
    with log.open("ab") as out:
        balancer = subprocess.Popen(
            ["haproxy", "-db", "-f", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cluster.workdir,
            start_new_session=True,
        )
    balanced = dataclasses.replace(server, kind=KIND, endpoint=f"{LOOPBACK}:{port}")
    running = RunningCluster(balanced, cluster, balancer)
    try:
        _wait_balancer(running, log)
    except BaseException:
        running.stop()
        raise
    return running


def _wait_balancer(running: RunningCluster, log: Path) -> None:
    """Ready when every gateway is UP in HAProxy and an S3 request through it is ours."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if not pid_alive(running.balancer.pid):
            raise RuntimeError(f"haproxy exited during start-up:\n{tail(log)}")
        try:
            states = running.balancer_states()
        except OSError:
            states = {}
        if states and set(states.values()) == {"UP"} and http_status(running.server.url + "/") == 200:
            _rgw.check_it_is_ours(running.server)
            return
        time.sleep(0.05)
    raise RuntimeError(f"haproxy not ready at {running.server.url} after {READY_TIMEOUT:.0f} s:\n{tail(log)}")


def _start_once() -> RunningServer:
    started = time.monotonic()
    running = _rgw.build(CLUSTER, "dmb-cluster-", "Ceph RGW cluster", _start_balancer)
    running.startup_seconds = time.monotonic() - started
    logger.info("Ceph RGW cluster ready at %s in %.2f s", running.server.url, running.startup_seconds)
    return running


def start_rgw_cluster() -> RunningCluster:
    """Start the cluster (monitor, 3 OSDs, 2 gateways) and HAProxy in front; wait until it serves.

    Raises RuntimeError with the tail of the logs when anything fails; a start that lost a port
    to another process is retried with new ports.
    """
    missing = missing_binaries()
    if missing:
        raise RuntimeError(f"the Ceph RGW cluster needs these programs on PATH: {', '.join(missing)}")
    running = retry_on_lost_port(_start_once, "Ceph RGW cluster")
    assert isinstance(running, RunningCluster)
    return running


def register() -> None:
    """Make ``MINIO_TEST_SERVER=rgw-cluster`` and ``start_server("rgw-cluster")`` start this cluster."""
    register_kind(KIND, start_rgw_cluster, strict=True, lacks=_rgw.LACKS)
