"""Choosing and describing S3 test servers without starting one: environment, refused kinds, failed starts."""

from __future__ import annotations

import importlib.util

import pytest

from django_minio_backend.testing import (
    RunningServer,
    S3Server,
    _moto,
    register_kind,
    server,
    servers,
    start_server,
)

from tests.support.processes import assert_start_left_nothing


def test_external_server_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINIO_TEST_SERVER", "auto")
    monkeypatch.setenv("MINIO_TEST_ENDPOINT", "minio.example:9000")
    monkeypatch.setenv("MINIO_TEST_ACCESS_KEY", "ak")
    monkeypatch.setenv("MINIO_TEST_SECRET_KEY", "sk")
    monkeypatch.setenv("MINIO_TEST_USE_HTTPS", "1")
    monkeypatch.setenv("MINIO_TEST_REGION", "eu-central-1")
    with start_server() as running:
        assert running.server == S3Server(
            kind="external",
            endpoint="minio.example:9000",
            access_key="ak",
            secret_key="sk",
            region="eu-central-1",
            use_https=True,
        )
        assert running.server.strict
        assert running.server.url == "https://minio.example:9000"
        assert running.pids == ()


def test_external_server_names_missing_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINIO_TEST_ENDPOINT", "minio.example:9000")
    monkeypatch.delenv("MINIO_TEST_ACCESS_KEY", raising=False)
    monkeypatch.delenv("MINIO_TEST_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="MINIO_TEST_ACCESS_KEY, MINIO_TEST_SECRET_KEY"):
        start_server("external")


def test_missing_moto_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == "moto" else real_find_spec(name, *args)

    monkeypatch.setattr(_moto.importlib.util, "find_spec", find_spec)
    with pytest.raises(RuntimeError, match=r"module 'moto'.*moto\[server\]"):
        start_server("moto")


def test_unknown_kind_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="minio"):
        start_server("minio")
    monkeypatch.setenv("MINIO_TEST_SERVER", "bogus")
    with pytest.raises(ValueError, match="MINIO_TEST_SERVER"):
        start_server()


def test_auto_with_s3_strict_raises_when_rgw_fails(
    broken_ceph: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("S3_STRICT", "1")
    with pytest.raises(RuntimeError, match="S3_STRICT=1") as info:
        start_server()
    assert "fake ceph-authtool failed" in str(info.value)
    assert_start_left_nothing(info.value)


@pytest.fixture
def own_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations made by the test are forgotten after it (the suite's rgw-cluster stays)."""
    monkeypatch.setattr(server, "_registered", dict(server._registered))


@pytest.mark.parametrize("strict", [True, False])
def test_a_registered_kind_is_chosen_started_and_judged_by_its_flag(own_kinds, monkeypatch, strict):
    described = RunningServer(S3Server("my-gateway", "127.0.0.1:9", "key", "secret"))
    register_kind("My-Gateway", lambda: described, strict=strict)
    monkeypatch.setenv("MINIO_TEST_SERVER", "my-gateway")
    assert "my-gateway" in servers.kinds() and servers.planned_kind() == "my-gateway"
    assert start_server() is described and start_server("my-gateway") is described
    assert server.is_strict_kind("my-gateway") is strict and described.server.strict is strict


def test_a_built_in_kind_cannot_be_replaced(own_kinds):
    with pytest.raises(ValueError, match="built-in"):
        register_kind("moto", lambda: None, strict=True)
    assert not server.is_strict_kind("moto")
    assert server.is_strict_kind("rgw-cluster"), "the suite's cluster is registered as strict"
