"""The load-balanced Ceph cluster (MINIO_TEST_SERVER=rgw-cluster): consistency across gateways,
failover, and the helper's start/stop. Every test here is skipped on other servers."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from django_minio_backend.models import MinioBackend
from django_minio_backend.testing import start_server
from django_minio_backend.testing._process import pid_alive

from tests.support import PRIVATE
from tests.support.processes import assert_start_left_nothing, fake_programs, processes_using

pytestmark = pytest.mark.s3_cluster

WRITERS = 32


def through_gateway(s3_cluster, gateway: str) -> MinioBackend:
    """A storage that talks to one gateway directly (its URLs too), not through the balancer."""
    endpoint = s3_cluster.gateway_server(gateway).endpoint
    return MinioBackend(
        bucket_name=PRIVATE,
        storage_name="default",
        MINIO_ENDPOINT=endpoint,
        MINIO_EXTERNAL_ENDPOINT=endpoint,
    )


def test_cluster_has_three_osds_replicated_pools_and_two_balanced_gateways(s3_cluster, storage):
    storage.save(f"layout-{uuid.uuid4().hex[:8]}.txt", ContentFile(b"creates the data pools"))
    assert s3_cluster.osds_up() == 3
    pools = json.loads(s3_cluster.cluster.run("ceph", "osd", "pool", "ls", "detail", "-f", "json"))
    assert {pool["pool_name"] for pool in pools} >= {"default.rgw.buckets.data", "default.rgw.buckets.index"}
    assert {(pool["size"], pool["min_size"]) for pool in pools} == {(3, 2)}
    assert s3_cluster.balancer_states() == {"a": "UP", "b": "UP"}
    gateways = {s3_cluster.gateway_server(name).endpoint for name in s3_cluster.gateways}
    assert len(gateways) == 2 and s3_cluster.server.endpoint not in gateways


@pytest.mark.parametrize(("writer", "reader"), [("rgw.a", "rgw.b"), ("rgw.b", "rgw.a")])
def test_save_through_one_gateway_is_visible_through_the_other(
    s3_cluster, minio_settings, name, http, writer, reader
):
    a, b = through_gateway(s3_cluster, writer), through_gateway(s3_cluster, reader)
    payload = os.urandom(70_000)
    saved = a.save(f"{name}/doc.bin", ContentFile(payload))

    assert b.exists(saved)
    assert b.size(saved) == len(payload)
    with b.open(saved) as stored:
        assert stored.read() == payload
    assert b.listdir(name) == ([], ["doc.bin"])
    url = b.url(saved)
    assert s3_cluster.gateway_server(reader).endpoint in url
    response = http.request("GET", url)
    assert response.status == 200 and response.data == payload

    a.delete(saved)
    assert not b.exists(saved)
    assert b.listdir(name) == ([], [])


def test_writers_on_both_gateways_saving_one_name_keep_every_object(s3_cluster, minio_settings, name):
    storages = [through_gateway(s3_cluster, gateway) for gateway in ("rgw.a", "rgw.b")]
    payloads = [f"writer {i}: ".encode() + os.urandom(4096) for i in range(WRITERS)]
    start = threading.Barrier(WRITERS, timeout=30)

    def write(i: int) -> str:
        start.wait()
        return storages[i % 2].save(f"{name}/same.txt", ContentFile(payloads[i]))

    with ThreadPoolExecutor(WRITERS) as pool:
        names = list(pool.map(write, range(WRITERS), timeout=120))

    assert len(set(names)) == WRITERS
    balanced = MinioBackend(bucket_name=PRIVATE, storage_name="default")
    for saved, payload in zip(names, payloads, strict=True):
        with balanced.open(saved) as stored:
            assert hashlib.sha256(stored.read()).digest() == hashlib.sha256(payload).digest(), saved
    assert len(balanced.listdir(name)[1]) == WRITERS


def test_killed_gateway_is_taken_out_and_requests_go_to_the_other(s3_cluster, storage, name):
    s3_cluster.kill_gateway("rgw.a")
    try:
        saved = [storage.save(f"{name}/{i}.txt", ContentFile(f"payload {i}".encode())) for i in range(10)]
        for i, key in enumerate(saved):
            with storage.open(key) as stored:
                assert stored.read() == f"payload {i}".encode()
        assert s3_cluster.balancer_states()["a"] == "DOWN"
    finally:
        s3_cluster.restart_gateway("rgw.a")
        assert s3_cluster.wait_balanced()
    assert storage.exists(saved[0])


def test_second_cluster_starts_and_stops_by_pid_without_leftovers(s3_cluster):
    running = start_server("rgw-cluster")
    try:
        assert len(running.pids) == 7  # haproxy, 2 gateways, 3 OSDs, the monitor
        assert all(pid_alive(pid) for pid in running.pids)
        assert running.server.endpoint != s3_cluster.server.endpoint
        client = running.server.client()
        client.make_bucket(bucket_name="second-cluster")
        assert [bucket.name for bucket in client.list_buckets()] == ["second-cluster"]
        workdir, pids = running.workdir, running.pids
    finally:
        running.stop()
    assert not any(pid_alive(pid) for pid in pids)
    assert not workdir.exists()
    assert processes_using(workdir) == []
    assert s3_cluster.alive()


def test_cluster_whose_balancer_fails_stops_every_daemon(s3_cluster, tmp_path: Path, monkeypatch):
    fake_programs(tmp_path / "bin", ("haproxy",), monkeypatch)
    with pytest.raises(RuntimeError, match="Ceph RGW cluster did not start") as info:
        start_server("rgw-cluster")
    assert "haproxy exited during start-up" in str(info.value)
    assert "fake haproxy failed" in str(info.value)
    assert_start_left_nothing(info.value)


def test_gateway_killed_mid_saves_loses_and_duplicates_nothing(s3_cluster, storage, name):
    """8 threads save new names while rgw.a is SIGKILLed: what succeeded is stored once, intact."""
    from django_minio_backend.errors import StorageServerError

    saved: dict[str, bytes] = {}
    failed: list[BaseException] = []
    lock = threading.Lock()
    started = threading.Event()

    def writer(t: int) -> None:
        for i in range(25):
            payload = os.urandom(2048 + i)
            try:
                key = storage.save(f"{name}/t{t}/{i}.bin", ContentFile(payload))
            except StorageServerError as error:
                with lock:
                    failed.append(error)
                continue
            with lock:
                saved[key] = payload
            started.set()

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    try:
        assert started.wait(30)
        s3_cluster.kill_gateway("rgw.a")
        for thread in threads:
            thread.join(120)
    finally:
        s3_cluster.restart_gateway("rgw.a")
        assert s3_cluster.wait_balanced()
    assert not any(thread.is_alive() for thread in threads)
    client = s3_cluster.server.client()
    listed = {
        obj.object_name for obj in client.list_objects(bucket_name=PRIVATE, prefix=f"{name}/", recursive=True)
    }
    assert listed == set(saved)  # nothing lost, nothing stored twice
    for key, payload in saved.items():
        with storage.open(key) as stored:
            assert stored.read() == payload
    assert len(saved) + len(failed) == 8 * 25
