"""docker-compose.yml cannot run here (no Docker engine, no images): validate it with the compose
client, and run its nginx config against the Ceph cluster. Its structure is checked in
tests/unit/test_docker_compose.py."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import urllib3

from tests.support import COMPOSE_NODES, ROOT
from tests.support.nginx_balancer import nginx_in_front_of

yaml = pytest.importorskip("yaml", reason="PyYAML is in the test extra: pip install -e '.[test]'")


def compose_validator() -> list[str] | None:
    """`docker compose` when the client has the plugin, else Debian's docker-compose, else None."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


def test_compose_file_validates_without_an_engine():
    validator = compose_validator()
    if validator is None:
        pytest.skip(
            "neither `docker compose` nor docker-compose is installed (apt-get install docker-compose)"
        )
    result = subprocess.run(
        [*validator, "-f", str(ROOT / "docker-compose.yml"), "config"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith(("MINIO_ROOT_", "DJANGO_"))},
    )
    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert set(resolved["services"]) == {*COMPOSE_NODES, "nginx", "app"}
    assert resolved["services"]["minio3"]["environment"]["MINIO_ROOT_PASSWORD"] == "minioadmin-change-me"
    assert resolved["services"]["nginx"]["depends_on"]["minio4"]["condition"] == "service_healthy"


@pytest.mark.s3_cluster
def test_docker_nginx_config_balances_the_ceph_gateways(s3_cluster, minio_settings, tmp_path):
    """docker/nginx.conf, run by Debian's nginx, in front of the two gateways: S3 works through it."""
    if shutil.which("nginx") is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    from django.core.files.base import ContentFile

    from django_minio_backend.models import MinioBackend

    gateways = [s3_cluster.gateway_server(name).endpoint for name in s3_cluster.gateways]
    payload = os.urandom(300_000)
    with nginx_in_front_of(gateways, tmp_path) as endpoint:
        storage = MinioBackend(
            bucket_name="test-private",
            storage_name="default",
            MINIO_ENDPOINT=endpoint,
            MINIO_EXTERNAL_ENDPOINT=endpoint,
        )
        saved = [storage.save("nginx/doc.bin", ContentFile(payload)) for _ in range(4)]
        assert len(set(saved)) == 4  # conditional writes through nginx: no overwrite
        http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=30))
        for name in saved:
            assert storage.size(name) == len(payload)
            with storage.open(name) as stored:
                assert stored.read() == payload
            response = http.request("GET", storage.url(name))  # presigned for nginx's Host
            assert response.status == 200 and response.data == payload
        assert sorted(storage.listdir("nginx")[1]) == sorted(n.split("/")[1] for n in saved)
        for name in saved:
            storage.delete(name)
        assert storage.listdir("nginx") == ([], [])
    balanced_hits = (tmp_path / "access.log").read_text().count("\n")
    assert balanced_hits >= 4 * 5
