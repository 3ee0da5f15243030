"""docker-compose.yml cannot run here (no Docker engine, no images): validate it with the compose
client, check its structure and settings, and run its nginx config against the Ceph cluster."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import urllib3

from tests.support import ROOT
from tests.support.nginx_balancer import nginx_in_front_of, render

yaml = pytest.importorskip("yaml", reason="PyYAML is in the test extra: pip install -e '.[test]'")

NODES = ("minio1", "minio2", "minio3", "minio4")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def example_env_keys() -> set[str]:
    """The environment variables examples/demo_project/settings.py reads (it records them in ENV_KEYS)."""
    path = ROOT / "examples" / "demo_project" / "settings.py"
    spec = importlib.util.spec_from_file_location("example_settings_for_compose_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return set(module.ENV_KEYS)


def test_four_minio_nodes_with_two_drives_each_form_one_cluster(compose):
    services = compose["services"]
    for node in NODES:
        service = services[node]
        assert service["hostname"] == node
        assert service["command"].split()[0] == "server"
        assert "http://minio{1...4}/data{1...2}" in service["command"]
        mounts = sorted(volume.split(":")[1] for volume in service["volumes"])
        assert mounts == ["/data1", "/data2"]
        for volume in service["volumes"]:
            assert volume.split(":")[0] in compose["volumes"], f"{volume} is not a named volume"
        assert set(service["environment"]) >= {"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"}
        assert "ports" not in service, "nodes are reached through nginx only"
    all_drives = [volume.split(":")[0] for node in NODES for volume in services[node]["volumes"]]
    assert len(set(all_drives)) == 8, "every drive needs its own volume"


def test_nginx_balances_s3_and_console_over_all_nodes(compose):
    nginx = compose["services"]["nginx"]
    assert set(nginx["ports"]) == {"9000:9000", "9001:9001"}
    assert set(nginx["depends_on"]) == set(NODES)
    source, target = nginx["volumes"][0].split(":")[:2]
    assert target == "/etc/nginx/nginx.conf"
    config = (ROOT / source).read_text()
    for port in ("9000", "9001"):
        assert re.search(rf"listen {port};", config)
        assert sorted(re.findall(rf"server (minio\d):{port};", config)) == list(NODES)
    # Presigned URLs are signed over the Host header, so nginx must pass it through unchanged.
    assert "proxy_set_header Host $http_host;" in config
    assert "client_max_body_size 0;" in config


def test_app_reaches_minio_through_nginx_and_hands_out_localhost_urls(compose):
    app = compose["services"]["app"]
    env = app["environment"]
    assert env["MINIO_ENDPOINT"] == "nginx:9000"
    assert env["MINIO_EXTERNAL_ENDPOINT"] == "localhost:9000"
    assert env["MINIO_ACCESS_KEY"] == compose["services"]["minio1"]["environment"]["MINIO_ROOT_USER"]
    assert env["MINIO_SECRET_KEY"] == compose["services"]["minio1"]["environment"]["MINIO_ROOT_PASSWORD"]
    assert "8000:8000" in app["ports"]
    assert "nginx" in app["depends_on"]
    assert "examples/run_demo.py" in app["command"] and "--host 0.0.0.0" in app["command"]
    assert app["healthcheck"]["test"][-1] == "is_minio_available"
    db_dir = str(Path(env["DJANGO_DB_PATH"]).parent)
    assert any(volume.split(":")[1] == db_dir for volume in app["volumes"]), "the database must persist"


def test_app_environment_is_exactly_what_the_example_settings_read(compose, example_env_keys):
    env = set(compose["services"]["app"]["environment"])
    unknown = env - example_env_keys
    assert not unknown, f"docker-compose.yml sets variables the example settings never read: {unknown}"
    for key in ("MINIO_ENDPOINT", "MINIO_EXTERNAL_ENDPOINT", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"):
        assert key in example_env_keys and key in env


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
    assert set(resolved["services"]) == {*NODES, "nginx", "app"}
    assert resolved["services"]["minio3"]["environment"]["MINIO_ROOT_PASSWORD"] == "minioadmin-change-me"
    assert resolved["services"]["nginx"]["depends_on"]["minio4"]["condition"] == "service_healthy"


def test_rendered_nginx_config_keeps_everything_but_addresses_and_paths(tmp_path):
    shipped = (ROOT / "docker" / "nginx.conf").read_text()
    rendered = render(shipped, ["127.0.0.1:1001", "127.0.0.1:1002"], {"9000": 2000, "9001": 2001}, tmp_path)
    assert "minio" not in re.sub(r"#.*|upstream minio_\w+|http://minio_\w+", "", rendered)
    assert re.findall(r"server (127\.0\.0\.1:\d+);", rendered) == ["127.0.0.1:1001", "127.0.0.1:1002"] * 4
    assert "listen 127.0.0.1:2000;" in rendered and "listen 127.0.0.1:2001;" in rendered
    for line in shipped.splitlines():
        if "proxy_" in line or "client_max_body_size" in line:
            assert line in rendered


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
