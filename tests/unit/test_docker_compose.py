"""docker-compose.yml and docker/nginx.conf read as data: the cluster, nginx, and the app's settings."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from tests.support import COMPOSE_NODES, ROOT
from tests.support.nginx_balancer import render

yaml = pytest.importorskip("yaml", reason="PyYAML is in the test extra: pip install -e '.[test]'")


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
    for node in COMPOSE_NODES:
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
    all_drives = [volume.split(":")[0] for node in COMPOSE_NODES for volume in services[node]["volumes"]]
    assert len(set(all_drives)) == 8, "every drive needs its own volume"


def test_nginx_balances_s3_and_console_over_all_nodes(compose):
    nginx = compose["services"]["nginx"]
    assert set(nginx["ports"]) == {"9000:9000", "9001:9001"}
    assert set(nginx["depends_on"]) == set(COMPOSE_NODES)
    source, target = nginx["volumes"][0].split(":")[:2]
    assert target == "/etc/nginx/nginx.conf"
    config = (ROOT / source).read_text()
    for port in ("9000", "9001"):
        assert re.search(rf"listen {port};", config)
        assert sorted(re.findall(rf"server (minio\d):{port};", config)) == list(COMPOSE_NODES)
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


def test_rendered_nginx_config_keeps_everything_but_addresses_and_paths(tmp_path):
    shipped = (ROOT / "docker" / "nginx.conf").read_text()
    rendered = render(shipped, ["127.0.0.1:1001", "127.0.0.1:1002"], {"9000": 2000, "9001": 2001}, tmp_path)
    assert "minio" not in re.sub(r"#.*|upstream minio_\w+|http://minio_\w+", "", rendered)
    assert re.findall(r"server (127\.0\.0\.1:\d+);", rendered) == ["127.0.0.1:1001", "127.0.0.1:1002"] * 4
    assert "listen 127.0.0.1:2000;" in rendered and "listen 127.0.0.1:2001;" in rendered
    for line in shipped.splitlines():
        if "proxy_" in line or "client_max_body_size" in line:
            assert line in rendered
