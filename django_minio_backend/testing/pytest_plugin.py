"""pytest plugin: an S3 test server that starts on first use and stops at the end of the session.

Registered through the ``pytest11`` entry point. Importing it starts nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .cleanup import empty_all_buckets
from .servers import RunningServer, S3Server, planned_kind, selected_kind, start_server

STRICT_SKIP_REASON = (
    "needs a server that enforces signatures/expiry/policies; moto does not (set MINIO_TEST_SERVER=rgw)"
)
_RUNNING = pytest.StashKey[RunningServer]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "strict: needs a server that enforces signatures, expiry and policies; skipped on moto",
    )


def pytest_report_header(config: pytest.Config) -> str:
    try:
        plan = f"{planned_kind()} (MINIO_TEST_SERVER={selected_kind()})"
    except ValueError as exc:
        plan = f"invalid choice: {exc}"
    return f"django-minio-backend S3 test server: {plan}, started on first use of s3_server"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    running = terminalreporter.config.stash.get(_RUNNING, None)
    if running is not None:
        server = running.server
        terminalreporter.write_line(
            f"django-minio-backend S3 test server used: {server.kind} at {server.url}"
            f" (ready in {running.startup_seconds:.2f} s)"
        )


@pytest.fixture(scope="session")
def s3_server(request: pytest.FixtureRequest) -> Iterator[S3Server]:
    """The session's S3 server, started the first time a test asks for it."""
    running = start_server()
    request.config.stash[_RUNNING] = running
    try:
        yield running.server
    finally:
        running.stop()


@pytest.fixture
def s3_clean_buckets(s3_server: S3Server) -> Iterator[S3Server]:
    """Empties every bucket on the server after the test."""
    yield s3_server
    empty_all_buckets(s3_server)


@pytest.fixture(autouse=True)
def _s3_skip_strict_on_lenient_server(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("strict") is None:
        return
    server: S3Server = request.getfixturevalue("s3_server")
    if not server.strict:
        pytest.skip(STRICT_SKIP_REASON)
