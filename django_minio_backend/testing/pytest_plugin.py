"""pytest plugin: an S3 test server that starts on first use and stops at the end of the session.

Registered through the ``pytest11`` entry point. Importing it starts nothing, and nothing happens
unless a test uses one of its fixtures:

- ``s3_server`` (alias ``minio_server``), session scope: the :class:`S3Server`.
- ``minio_storages``: for one test, every MinIO alias of ``settings.STORAGES`` points at the
  server and its declared buckets exist; they are emptied after the test. Gives the S3Server.
- ``s3_clean_buckets``: empties every bucket on the server after the test.

Tests marked ``s3_strict`` need a server that enforces signatures, presigned expiry and bucket
policies; they are skipped when the planned server (moto) does not, without starting it.

Tests marked ``s3_needs("bucket-policies", ...)`` need those capabilities (names from
``server.CAPABILITIES``); they are skipped, with the capability and the server named, where the
server lacks one: judged from the planned server's description when it is known before it starts
(so the skip starts nothing), else from the running server's ``S3Server.lacks``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .cleanup import empty_all_buckets
from .server import CAPABILITIES, RunningServer, S3Server, is_strict_kind
from .servers import planned_kind, planned_lacks, selected_kind, shared_server

STRICT_SKIP_REASON = (
    "needs a server that enforces signatures/expiry/policies; moto does not (set MINIO_TEST_SERVER=rgw)"
)
_RUNNING = pytest.StashKey[RunningServer]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "s3_strict: needs an S3 server that enforces signatures, expiry and policies; skipped on moto",
    )
    config.addinivalue_line(
        "markers",
        "s3_needs(*capabilities): needs an S3 server with these capabilities (S3Server.lacks names what a "
        "server lacks); skipped, naming the capability, where it lacks one",
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
    running = shared_server()
    request.config.stash[_RUNNING] = running
    try:
        yield running.server
    finally:
        running.stop()


@pytest.fixture(scope="session")
def minio_server(s3_server: S3Server) -> S3Server:
    """The session's S3 server (another name for ``s3_server``)."""
    return s3_server


@pytest.fixture
def minio_storages(request: pytest.FixtureRequest, s3_server: S3Server) -> Iterator[S3Server]:
    """Every MinIO alias of STORAGES on the test server, its buckets created, emptied after the test."""
    from .storages import create_declared_buckets, empty_declared_buckets, storages_for

    storages = storages_for(s3_server)
    if request.config.pluginmanager.hasplugin("django"):
        # pytest-django's settings fixture keeps one stack of overrides, so tests may change more
        override = None
        request.getfixturevalue("settings").STORAGES = storages
    else:
        from django.test import override_settings

        override = override_settings(STORAGES=storages)
        override.enable()
    try:
        create_declared_buckets(storages)
        yield s3_server
        empty_declared_buckets(s3_server, storages)
    finally:
        if override is not None:
            override.disable()


@pytest.fixture
def s3_clean_buckets(s3_server: S3Server) -> Iterator[S3Server]:
    """Empties every bucket on the server after the test."""
    yield s3_server
    empty_all_buckets(s3_server)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Judged from the plan, so that a skipped test starts no server.
    strict = [item for item in items if item.get_closest_marker("s3_strict") is not None]
    if strict and not _planned_strict():
        for item in strict:
            item.add_marker(pytest.mark.skip(reason=STRICT_SKIP_REASON))
    needing = [item for item in items if needed_capabilities(item)]
    if not needing:
        return
    try:
        kind, lacks = planned_kind(), planned_lacks()
    except ValueError:  # a MINIO_TEST_SERVER typo: starting the server names it
        return
    if lacks is None:  # not known before the server runs: judged by the fixture below
        return
    for item in needing:
        reason = lacking_reason(needed_capabilities(item), kind, lacks)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


def needed_capabilities(item: pytest.Item) -> tuple[str, ...]:
    """The capabilities the ``s3_needs`` markers of ``item`` name, checked against CAPABILITIES."""
    needed: list[str] = []
    for marker in item.iter_markers("s3_needs"):
        for capability in marker.args:
            if capability not in CAPABILITIES:
                raise pytest.UsageError(
                    f"{item.nodeid}: s3_needs({capability!r}) is not a capability; known: "
                    + ", ".join(sorted(CAPABILITIES))
                )
            needed.append(capability)
    return tuple(needed)


def lacking_reason(needed: tuple[str, ...], kind: str, lacks: frozenset[str]) -> str:
    """The skip reason when a ``kind`` server that lacks ``lacks`` cannot run the test, else ''."""
    missing = [capability for capability in needed if capability in lacks]
    if not missing:
        return ""
    return f"needs {', '.join(missing)}: the {kind} test server lacks it"


def _planned_strict() -> bool:
    try:
        return is_strict_kind(planned_kind())
    except ValueError:  # a MINIO_TEST_SERVER typo: starting the server names it
        return True


@pytest.fixture(autouse=True)
def _s3_skip_strict_on_lenient_server(request: pytest.FixtureRequest) -> None:
    """auto falls back to moto when RGW does not start: a strict test using the server sees which it got."""
    if request.node.get_closest_marker("s3_strict") is None or "s3_server" not in request.fixturenames:
        return
    if not request.getfixturevalue("s3_server").strict:
        pytest.skip(STRICT_SKIP_REASON)


@pytest.fixture(autouse=True)
def _s3_skip_lacking_server(request: pytest.FixtureRequest) -> None:
    """``s3_needs`` judged from the running server, for servers not described before they start."""
    needed = needed_capabilities(request.node)
    if not needed or "s3_server" not in request.fixturenames:
        return
    server: S3Server = request.getfixturevalue("s3_server")
    reason = lacking_reason(needed, server.kind, server.lacks)
    if reason:
        pytest.skip(reason)
