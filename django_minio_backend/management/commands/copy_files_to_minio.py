"""manage.py copy_files_to_minio: move existing files (MEDIA_ROOT, another storage) into MinIO."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...ops import copy_files
from ...storage.backend import MinioBackend
from ..progress import Progress, human_bytes

VERBS = {"copied": "copied", "skipped": "skipped", "conflicts": "CONFLICT", "failed": "FAILED"}


class Command(BaseCommand):
    help = (
        "Copy every file of a directory (--from-path) or of a Django storage (--from-alias) into a MinIO "
        "storage alias under the same names, so FileField rows keep working. Files already there with "
        "the same content are skipped (no download), so a rerun copies only what is missing; a different "
        "object under a name is left alone (a conflict) unless --replace."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--from-path", metavar="DIR", help="Copy the files under this directory.")
        source.add_argument("--from-alias", metavar="ALIAS", help="Copy the files of this STORAGES alias.")
        parser.add_argument("--alias", default="default", help="The MinIO STORAGES alias to copy into.")
        parser.add_argument("--prefix", default="", help="Store each file under this directory.")
        parser.add_argument("--workers", type=int, default=8, help="Files copied at once (default 8).")
        parser.add_argument("--replace", action="store_true", help="Overwrite objects whose content differs.")
        parser.add_argument("--verify", action="store_true", help="Read every object back and compare MD5s.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be copied; write nothing."
        )
        parser.add_argument(
            "--from-model",
            metavar="APP.MODEL.FIELD",
            action="append",
            default=[],
            help="Only the files this FileField's rows reference (repeatable).",
        )
        parser.add_argument("--progress-interval", type=float, default=10.0, help=argparse_hidden())

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity: int = options["verbosity"]
        if options["workers"] < 1 or options["workers"] > 256:
            raise CommandError("--workers must be between 1 and 256.")
        target = self._target(options["alias"])
        report = copy_files.CopyReport()
        batches, total, total_bytes = self._batches(options, report)
        progress = Progress(
            self.stdout,
            "copy_files_to_minio",
            total=total,
            total_bytes=total_bytes,
            verbosity=verbosity,
            interval=options["progress_interval"],
        )
        job = copy_files.CopyJob(
            target=copy_files.sized_target(target, options["workers"]),
            prefix=options["prefix"].strip("/"),
            workers=options["workers"],
            replace=options["replace"],
            verify=options["verify"],
            dry_run=options["dry_run"],
            on_file=self._on_file(progress, verbosity, options["dry_run"]),
        )
        try:
            copy_files.copy_files(job, batches, report)
        finally:
            progress.close()
        self._summary(report, verbosity, options["dry_run"])
        if report.failed:
            raise CommandError(f"{report.failed} file(s) could not be copied; first: {report.errors[0]}")

    def _target(self, alias: str) -> MinioBackend:
        try:
            target = storages[alias]
        except Exception as error:
            raise CommandError(f"--alias {alias!r} is not in STORAGES: {error}") from error
        if not isinstance(target, MinioBackend):
            raise CommandError(f"--alias {alias!r} is a {type(target).__name__}, not a MinioBackend.")
        return target

    def _batches(self, options: dict[str, Any], report: copy_files.CopyReport) -> tuple[Any, Any, Any]:
        """The source's files, one list per directory, and (for a directory) their count and bytes."""
        root, source = options["from_path"], None
        if options["from_alias"]:
            try:
                source = storages[options["from_alias"]]
            except Exception as error:
                raise CommandError(f"--from-alias {options['from_alias']!r}: {error}") from error
        elif not root:
            raise CommandError("Give --from-path DIR or --from-alias ALIAS.")
        if options["from_model"]:
            names = [name for spec in options["from_model"] for name in self._referenced(spec)]
            batches = list(copy_files.named_files(names, root=root, storage=source, report=report))
        elif root:
            try:
                batches = list(copy_files.walk_directory(root))
            except FileNotFoundError as error:
                raise CommandError(str(error)) from error
        else:
            return copy_files.walk_storage(source), None, None
        files = [f for batch in batches for f in batch]
        return batches, len(files), sum(f.size for f in files)

    def _referenced(self, spec: str) -> list[str]:
        try:
            app_label, model_name, field_name = spec.split(".")
            model = apps.get_model(app_label, model_name)
            model._meta.get_field(field_name)
        except (ValueError, LookupError) as error:
            raise CommandError(f"--from-model {spec!r}: give app_label.Model.field ({error}).") from error
        values = model._default_manager.exclude(**{field_name: ""}).exclude(**{f"{field_name}__isnull": True})
        return list(values.values_list(field_name, flat=True).distinct().iterator())

    def _on_file(self, progress: Progress, verbosity: int, dry_run: bool) -> Any:
        def on_file(outcome: str, name: str, size: int) -> None:
            progress.add(1, size)
            if (outcome != "skipped" and verbosity >= 2) or (
                dry_run and verbosity >= 1 and outcome != "skipped"
            ):
                verb = "would copy" if dry_run and outcome == "copied" else VERBS[outcome]
                self.stdout.write(f"{verb}: {name}")

        return on_file

    def _summary(self, report: copy_files.CopyReport, verbosity: int, dry_run: bool) -> None:
        for name in report.conflict_names:
            self.stderr.write(f"conflict (differs, kept; --replace overwrites): {name}")
        for error in report.errors:
            self.stderr.write(f"failed: {error}")
        if verbosity < 1 and not report.failed:
            return
        copied = "would copy" if dry_run else "copied"
        line = (
            f"{report.copied} {copied} ({human_bytes(report.bytes)}), {report.skipped} skipped (unchanged), "
            f"{report.conflicts} conflict(s), {report.failed} failed"
        )
        if report.verified:
            line += f", {report.verified} verified by reading back"
        self.stdout.write(line)


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS
