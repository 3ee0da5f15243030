"""The pytest plugin as users get it (the pytest11 entry point), in inner pytest runs: its markers
are namespaced, and strictness is judged from the planned server, so a skip starts nothing."""

from __future__ import annotations

import pytest

from django_minio_backend.testing import pytest_plugin
from django_minio_backend.testing.servers import RunningServer, S3Server

USERS_TESTS = """
import pytest

@pytest.mark.strict
def test_users_own_strict_marker():
    pass

@pytest.mark.s3_strict
def test_needs_a_strict_server():
    pass

@pytest.mark.s3_strict
def test_needs_a_strict_server_and_uses_it(s3_server):
    assert s3_server.strict
"""


@pytest.fixture
def users_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A user's test file, and a plugin whose server cannot start unless a test says otherwise."""
    pytester.makepyfile(test_users=USERS_TESTS)
    monkeypatch.delenv("MINIO_TEST_ENDPOINT", raising=False)
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)

    def no_start() -> RunningServer:
        raise AssertionError("the plugin started an S3 server")

    monkeypatch.setattr(pytest_plugin, "shared_server", no_start)
    return pytester


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    # Without pytest-django (its test environment is already set up by this run) and hypothesis
    # (re-imported by every inner run, 1.6 s).
    plugins = ("-p", "no:django", "-p", "no:hypothesispytest", "-p", "no:cacheprovider")
    return project.runpytest(*plugins, "-rs", *args)


def test_on_a_lenient_server_s3_strict_tests_are_skipped_and_a_plain_strict_marker_means_nothing(
    users_project, monkeypatch
):
    monkeypatch.setenv("MINIO_TEST_SERVER", "moto")
    result = run(users_project)
    result.assert_outcomes(passed=1, skipped=2)
    output = result.stdout.str()
    assert "started on first use of s3_server" in output, "the plugin was not loaded"
    skips = [line for line in result.outlines if line.startswith("SKIPPED")]
    assert len(skips) == 2 and all(pytest_plugin.STRICT_SKIP_REASON in line for line in skips)
    assert all("test_users.py:" in line for line in skips), "a skip names the user's test, not the plugin"
    assert "Unknown pytest.mark.strict" in output, "the plugin registers no plain strict marker"
    assert "S3 test server used" not in output


def test_on_a_strict_server_s3_strict_tests_run_and_start_nothing_they_do_not_ask_for(
    users_project, monkeypatch
):
    monkeypatch.setenv("MINIO_TEST_SERVER", "external")
    result = run(users_project, "-k", "not uses_it")
    result.assert_outcomes(passed=2, deselected=1)
    assert "S3 test server used" not in result.stdout.str()


def test_a_strict_test_that_got_a_lenient_server_after_all_is_skipped(users_project, monkeypatch):
    """auto plans RGW, but falls back to moto when RGW does not start."""
    monkeypatch.setenv("MINIO_TEST_SERVER", "rgw")
    fallback = RunningServer(S3Server("moto", "127.0.0.1:9", "key", "secret"))
    monkeypatch.setattr(pytest_plugin, "shared_server", lambda: fallback)
    result = run(users_project)
    result.assert_outcomes(passed=2, skipped=1)
    assert pytest_plugin.STRICT_SKIP_REASON in result.stdout.str()


def test_only_the_namespaced_marker_is_registered(users_project):
    output = run(users_project, "--markers").stdout.str()
    assert "@pytest.mark.s3_strict:" in output
    assert "@pytest.mark.strict:" not in output and "@pytest.mark.cluster:" not in output
