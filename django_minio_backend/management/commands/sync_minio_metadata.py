"""manage.py sync_minio_metadata: re-apply the header and metadata options to existing objects."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...errors import ConfigurationError
from ...ops import metadata_sync
from ..progress import Progress


class Command(BaseCommand):
    help = (
        "Give existing objects the Cache-Control, Content-Disposition, Content-Language, Content-Type "
        "and MINIO_METADATA that a save would give them today, by a server-side copy of the objects "
        "whose stored values differ (no download). Every bucket of every MinIO alias unless narrowed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count and list stale objects; copy nothing."
        )
        parser.add_argument(
            "--alias", action="append", default=[], help="Only this STORAGES alias (repeatable)."
        )
        parser.add_argument("--bucket", action="append", default=[], help="Only this bucket (repeatable).")
        parser.add_argument(
            "--prefix", default="", help="Only names under this prefix (e.g. invoices/2024/)."
        )
        parser.add_argument(
            "--workers", type=int, default=metadata_sync.WORKERS, help="Objects handled in parallel."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            targets = metadata_sync.plan_targets(
                aliases=options["alias"], buckets=options["bucket"], prefix=options["prefix"]
            )
        except ConfigurationError as error:
            raise CommandError(str(error)) from error
        if not targets:
            raise CommandError("No bucket to sync: STORAGES declares no MinIO bucket.")
        dry_run, verbosity = options["dry_run"], options["verbosity"]
        errors = 0
        for target in targets:
            progress = Progress(self.stdout, f"{target.endpoint}/{target.bucket}", verbosity=verbosity)
            try:
                report = metadata_sync.sync_bucket(
                    target,
                    dry_run=dry_run,
                    workers=options["workers"],
                    on_change=self._printer(target, dry_run)
                    if verbosity >= 2 or (dry_run and verbosity >= 1)
                    else None,
                    on_done=progress.add,
                )
            finally:
                progress.close()
            errors += len(report.errors)
            self._report(report, dry_run, verbosity)
        if errors:
            raise CommandError(f"{errors} object(s) could not be listed or updated; see above.")

    def _printer(self, target: metadata_sync.SyncTarget, dry_run: bool) -> Any:
        verbs = {"stale": "would update", "updated": "updated", "skipped": "skipped", "error": "failed"}

        def show(outcome: metadata_sync.Outcome) -> None:
            self.stdout.write(f"{verbs[outcome.result]} {target.bucket}/{outcome.key}: {outcome.detail}")

        return show

    def _report(self, report: metadata_sync.SyncReport, dry_run: bool, verbosity: int) -> None:
        target = report.target
        where = f"{target.endpoint}/{target.bucket}" + (f"/{target.prefix}" if target.prefix else "")
        for error in report.errors:
            self.stderr.write(f"{where}: {error}")
        if verbosity < 1:
            return
        done = "would be updated" if dry_run else "updated"
        count = report.stale if dry_run else report.updated
        self.stdout.write(
            f"{where} ({target.alias}): {report.listed} object(s) listed, {report.current} up to date, "
            f"{count} {done}, {report.skipped} skipped, {len(report.errors)} failed"
        )
