"""manage.py is_minio_available: probe the server of every MinIO alias of STORAGES."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...conf.aliases import storage_aliases
from ...errors import ConfigurationError
from ...ops import capabilities, health


class Command(BaseCommand):
    help = (
        "Check that the server of every MinIO alias in STORAGES answers an authenticated S3 request, "
        "within MINIO_HEALTH_CHECK_TIMEOUT. Exits non-zero naming each endpoint that failed and why. "
        "With --capabilities, also learn and print what each server can do."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--silenced", action="store_true", help="Print nothing unless a server fails.")
        parser.add_argument(
            "--capabilities",
            action="store_true",
            help="Also learn what each server can do (conditional writes, bucket policies, presigned POST, "
            "encryption, versioning): a few requests and throwaway objects per server, once.",
        )

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
        for alias, status in statuses:
            if status and verbosity >= 1:
                self.stdout.write(f"{alias.name}: {status.details}")
            if status and options["capabilities"]:
                for finding in capabilities.report(alias):
                    self.stdout.write(f"  {finding}")
        if failed:
            reasons = "; ".join(f"{alias.name}: {status.details}" for alias, status in failed)
            raise CommandError(f"MinIO not available: {reasons}")
