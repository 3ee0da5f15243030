"""manage.py clean_orphaned_minio_files: delete objects that no FileField row references."""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...errors import ConfigurationError
from ...ops import orphans
from ..progress import Progress

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_age(text: str) -> timedelta:
    """'24h', '30m', '2d', '90s', '1w'; a bare number is seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text.lower())
    if not match:
        raise CommandError(f"--min-age {text!r}: use a number with a unit, such as 24h, 30m, 2d or 0.")
    return timedelta(seconds=float(match[1]) * UNITS[match[2] or "s"])


class Command(BaseCommand):
    help = (
        "Delete objects in the media buckets declared in STORAGES that no FileField/ImageField row "
        "references (matched by bucket and key), skipping objects younger than --min-age, and abort "
        "incomplete multipart uploads older than --min-age (parts of failed or killed uploads). The static "
        "bucket and undeclared buckets are never touched. Asks for confirmation on a terminal."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="List the orphans; delete nothing.")
        parser.add_argument(
            "--check-missing", action="store_true", help="Also list rows whose object does not exist."
        )
        parser.add_argument(
            "--min-age",
            default="24h",
            type=parse_age,
            help="Keep objects younger than this (default 24h), so uploads whose row is not yet "
            "committed survive. Units: s, m, h, d, w.",
        )
        parser.add_argument("--noinput", "--no-input", action="store_true", help="Do not ask to confirm.")
        parser.add_argument(
            "--bucket", action="append", default=[], help="Only this declared bucket (repeatable)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run, check_missing = options["dry_run"], options["check_missing"]
        verbosity: int = options["verbosity"]
        try:
            refs = orphans.minio_file_fields()
            scans = orphans.plan_scans(refs, check_missing=check_missing)
        except ConfigurationError as error:
            raise CommandError(str(error)) from error
        if options["bucket"]:
            scans = [scan for scan in scans if scan.bucket in options["bucket"]]
        if not scans:
            raise CommandError("No declared media bucket to scan.")
        deleting = [scan for scan in scans if scan.deletable]
        if deleting and not dry_run and not options["noinput"] and sys.stdin.isatty():
            self._confirm(deleting, options["min_age"])
        try:
            referenced = orphans.referenced_keys(refs)
        except ConfigurationError as error:
            raise CommandError(str(error)) from error
        older_than = orphans.cutoff(options["min_age"])
        errors = 0
        for scan in scans:
            progress = Progress(self.stdout, f"{scan.endpoint}/{scan.bucket} listed", verbosity=verbosity)
            try:
                report = orphans.clean_bucket(
                    scan,
                    referenced.get((scan.endpoint, scan.bucket), set()),
                    older_than=older_than,
                    dry_run=dry_run or not scan.deletable,
                    check_missing=check_missing,
                    on_orphan=self._orphan_printer(scan, dry_run, verbosity),
                    on_listed=progress.add,
                )
            finally:
                progress.close()
            errors += len(report.errors)
            self._report(report, dry_run, verbosity)
            if check_missing:
                for label, pk, name in orphans.missing_rows(refs, scan, report.missing):
                    self.stdout.write(f"missing: {label} pk={pk} {name!r} (not in {scan.bucket})")
        if errors:
            raise CommandError(f"{errors} object(s) could not be listed or deleted; see above.")

    def _confirm(self, scans: list[orphans.BucketScan], min_age: timedelta) -> None:
        names = ", ".join(f"{scan.endpoint}/{scan.bucket}" for scan in scans)
        answer = input(
            f"Delete every object in {names} that no database row references and that is older "
            f"than {min_age}? Type 'yes' to continue: "
        )
        if answer.strip().lower() != "yes":
            raise CommandError("Cancelled; nothing was deleted.")

    def _orphan_printer(self, scan: orphans.BucketScan, dry_run: bool, verbosity: int) -> Any:
        if not scan.deletable or verbosity < (1 if dry_run else 2):
            return None
        verb = "would delete" if dry_run else "deleting"
        return lambda key: self.stdout.write(f"{verb} {scan.bucket}/{key}")

    def _report(self, report: orphans.ScanReport, dry_run: bool, verbosity: int) -> None:
        scan = report.scan
        for error in report.errors:
            self.stderr.write(f"{scan.endpoint}/{scan.bucket}: {error}")
        if verbosity < 1:
            return
        if not scan.deletable:
            summary = f"{report.listed} object(s) listed (read only: not a declared media bucket)"
        else:
            done = "would be deleted" if dry_run else "deleted"
            count = report.orphan_count if dry_run else report.deleted
            summary = (
                f"{report.listed} object(s) listed, {report.referenced} referenced, "
                f"{report.young} kept as too young, {report.orphan_count} orphaned, {count} {done}"
            )
            if report.stale_uploads:
                uploads = report.stale_uploads if dry_run else report.aborted_uploads
                summary += (
                    f"; {uploads} incomplete multipart upload(s) {'would be ' if dry_run else ''}aborted"
                )
        self.stdout.write(f"{scan.endpoint}/{scan.bucket}: {summary}")
