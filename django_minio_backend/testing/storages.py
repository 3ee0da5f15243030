"""Point every MinIO alias of ``settings.STORAGES`` at a test server, for a test or a block.

``override_minio_storages()`` works as a context manager, a function decorator and a class
decorator. Inside it, each STORAGES alias whose BACKEND is MinioBackend, MinioBackendStatic or a
subclass talks to the test server (endpoint, external endpoint, https flags, keys and region are
replaced; buckets, expiry and every other option are kept), and its declared buckets exist. An
alias without OPTIONS (3.x style: top-level ``MINIO_*`` settings) gets the top-level options.
"""

from __future__ import annotations

import functools
import unittest
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.test import override_settings
from django.test.utils import TestContextDecorator

from .cleanup import empty_bucket
from .server import RunningServer, S3Server
from .servers import shared_server


def storages_for(server: S3Server, storages: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A copy of ``storages`` (default: settings.STORAGES) with every MinIO alias on ``server``."""
    from ..conf.aliases import storage_aliases

    entries = settings.STORAGES if storages is None else storages
    aliases = {alias.name: alias for alias in storage_aliases(entries)}
    rewritten: dict[str, Any] = {}
    for name, config in entries.items():
        alias = aliases.get(name)
        if alias is None:
            rewritten[name] = config
            continue
        options = {
            **alias.raw,  # an alias without OPTIONS keeps the top-level settings
            **server.storage_options(),
            "MINIO_EXTERNAL_ENDPOINT": server.endpoint,
            "MINIO_EXTERNAL_ENDPOINT_USE_HTTPS": server.use_https,
        }
        rewritten[name] = {**config, "OPTIONS": options}
    return rewritten


def create_declared_buckets(storages: Mapping[str, Any] | None = None) -> None:
    """Create every bucket the MinIO aliases declare, with its policy (see ``ops/buckets.py``).

    Raises RuntimeError naming each bucket that could not be made ready.
    """
    from ..conf.buckets import plan_buckets
    from ..ops.buckets import initialize_buckets

    failed = [result for result in initialize_buckets(plan_buckets(storages)) if not result.ok]
    if failed:
        problems = "; ".join(f"{r.spec.bucket} on {r.spec.endpoint}: {r.error}" for r in failed)
        raise RuntimeError(f"cannot create the test buckets: {problems}")


def empty_declared_buckets(server: S3Server, storages: Mapping[str, Any] | None = None) -> int:
    """Delete every object in the buckets the MinIO aliases declare; returns how many."""
    from ..conf.buckets import plan_buckets

    declared = {spec.bucket for spec in plan_buckets(storages) if spec.public is not None}
    client = server.client()
    return sum(empty_bucket(server, bucket, client=client) for bucket in sorted(declared))


def _as_server(server: S3Server | RunningServer | None) -> S3Server:
    if server is None:
        return shared_server().server
    return server.server if isinstance(server, RunningServer) else server


class override_minio_storages(TestContextDecorator):
    """Point every MinIO alias of STORAGES at ``server`` (default: this process's shared server).

    ``create_buckets`` creates the declared buckets on entry; ``clear`` empties them on exit (on
    a class: after each test). As a ``with`` block it gives the S3Server. On a TestCase class it
    is active from setUpClass (so setUpTestData sees it) until the class is done.
    """

    def __init__(
        self,
        server: S3Server | RunningServer | None = None,
        *,
        create_buckets: bool = True,
        clear: bool = False,
    ) -> None:
        super().__init__()
        self.server = server
        self.create_buckets = create_buckets
        self.clear = clear
        self._active: list[tuple[override_settings, S3Server, dict[str, Any]]] = []

    def enable(self) -> S3Server:
        server = _as_server(self.server)
        storages = storages_for(server)
        override = override_settings(STORAGES=storages)
        override.enable()
        try:
            if self.create_buckets:
                create_declared_buckets(storages)
        except BaseException:
            override.disable()
            raise
        self._active.append((override, server, storages))
        return server

    def disable(self) -> None:
        override, server, storages = self._active.pop()
        try:
            if self.clear:
                empty_declared_buckets(server, storages)
        finally:
            override.disable()

    def _empty_current(self) -> None:
        _override, server, storages = self._active[-1]
        empty_declared_buckets(server, storages)

    def decorate_class(self, cls: type) -> type:
        if not (isinstance(cls, type) and issubclass(cls, unittest.TestCase)):
            raise TypeError("override_minio_storages can only decorate unittest.TestCase subclasses")
        decorator = self
        set_up_class = cls.setUpClass.__func__  # type: ignore[attr-defined]
        set_up = cls.setUp

        def wrapped_set_up_class(klass: type[unittest.TestCase]) -> None:
            decorator.enable()
            klass.addClassCleanup(decorator.disable)
            set_up_class(klass)

        @functools.wraps(set_up)
        def wrapped_set_up(test: unittest.TestCase) -> None:
            if decorator.clear:
                test.addCleanup(decorator._empty_current)
            set_up(test)

        cls.setUpClass = classmethod(wrapped_set_up_class)  # type: ignore[assignment]
        cls.setUp = wrapped_set_up  # type: ignore[method-assign]
        return cls
