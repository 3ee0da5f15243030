"""manage.py is_minio_available: probe the server of every MinIO alias of STORAGES."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...conf.aliases import storage_aliases
from ...errors import ConfigurationError
from ...ops import health


class Command(BaseCommand):
    help = (
        "Check that the server of every MinIO alias in STORAGES answers an authenticated S3 request, "
        "within MINIO_HEALTH_CHECK_TIMEOUT. Exits non-zero naming each endpoint that failed and why."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--silenced", action="store_true", help="Print nothing unless a server fails.")

    def handle(self, *args: Any, silenced: bool = False, **options: Any) -> None:
        verbosity = 0 if silenced else options["verbosity"]
        try:
            aliases = storage_aliases()
        except ConfigurationError as error:
            raise CommandError(str(error)) from error
        if not aliases:
            raise CommandError("STORAGES has no MinioBackend alias to check.")
        statuses = health.probe_aliases(aliases)
        failed = [(alias, status) for alias, status in statuses if not status]
        if verbosity >= 1:
            for alias, status in statuses:
                if status:
                    self.stdout.write(f"{alias.name}: {status.details}")
        if failed:
            reasons = "; ".join(f"{alias.name}: {status.details}" for alias, status in failed)
            raise CommandError(f"MinIO not available: {reasons}")
