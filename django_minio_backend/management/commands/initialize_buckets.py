"""manage.py initialize_buckets: create every declared bucket and set its policy."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...ops import buckets


class Command(BaseCommand):
    help = (
        "Create every bucket declared by the MinIO aliases of STORAGES (media buckets and the static "
        "bucket), give public buckets an anonymous read-only policy (GetObject, never listing), remove "
        "it from buckets now declared private, then apply MINIO_POLICY_HOOKS. Safe to run repeatedly."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--silenced", action="store_true", help="Print nothing unless something fails.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Read the buckets' state and print what would change."
        )

    def handle(self, *args: Any, silenced: bool = False, dry_run: bool = False, **options: Any) -> None:
        verbosity = 0 if silenced else options["verbosity"]
        try:
            results = buckets.initialize_buckets(dry_run=dry_run)
        except buckets.ConfigurationError as error:
            raise CommandError(str(error)) from error
        failed = [result for result in results if not result.ok]
        for result in results:
            self._report(result, verbosity, dry_run)
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(results)} bucket(s) failed: "
                + "; ".join(f"{r.spec.endpoint}/{r.spec.bucket}: {r.error}" for r in failed)
            )
        if verbosity >= 1:
            changed = sum(1 for result in results if result.changes)
            verb = "would change" if dry_run else "changed"
            self.stdout.write(f"{len(results)} bucket(s) checked, {changed} {verb}.")

    def _report(self, result: buckets.BucketResult, verbosity: int, dry_run: bool) -> None:
        spec = result.spec
        where = f"{spec.endpoint}/{spec.bucket} ({spec.visibility}, {', '.join(spec.aliases)})"
        if result.error:
            self.stderr.write(f"{where}: FAILED: {result.error}")
        elif result.changes and verbosity >= 1:
            prefix = "would " if dry_run else ""
            self.stdout.write(f"{where}: {prefix}" + f"; {prefix}".join(result.changes))
        elif verbosity >= 2:
            self.stdout.write(f"{where}: up to date")
