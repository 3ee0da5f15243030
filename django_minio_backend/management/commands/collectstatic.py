"""manage.py collectstatic: Django's command, run inside the static storage's collectstatic context.

Used when ``django_minio_backend`` comes before ``django.contrib.staticfiles`` in INSTALLED_APPS
(check ``minio_backend.W006`` says so otherwise). With a static storage that has ``collecting()``
(MinioBackendStatic, MinioManifestStaticStorage), the run makes one bucket listing, replaces
changed files with one PUT each, uploads in parallel and deletes with bulk requests; with any
other storage it is exactly Django's command. Its options and output are Django's.
"""

from __future__ import annotations

from typing import Any

from django.contrib.staticfiles.management.commands import collectstatic
from django.core.management.base import CommandError


class Command(collectstatic.Command):
    help = collectstatic.Command.help + " Uploads to a MinIO static storage in parallel."

    session: Any = None

    def collect(self) -> dict[str, list[str]]:
        collecting = getattr(self.storage, "collecting", None)
        if collecting is None:
            return super().collect()
        if getattr(self.storage, "keep_only_hashed", False) and not self.post_process:
            raise CommandError(
                "MINIO_STATIC_KEEP_ONLY_HASHED_FILES stores only the hashed copies, which "
                "--no-post-process does not make: nothing would be stored. Drop one of the two."
            )
        # The context ends (every upload finished, held deletes done) before the summary prints.
        with collecting() as session:
            self.session = session
            try:
                return super().collect()
            finally:
                self.session = None

    def delete_file(self, path: str, prefixed_path: str, source_storage: Any) -> bool:
        if self.session is not None:
            self.session.record_source(prefixed_path, _local_path(source_storage, path))
        return super().delete_file(path, prefixed_path, source_storage)

    def clear_dir(self, path: str) -> None:
        if self.session is None:
            return super().clear_dir(path)
        with self.session.clearing():
            return super().clear_dir(path)


def _local_path(storage: Any, path: str) -> str | None:
    try:
        return storage.path(path)
    except NotImplementedError:
        return None
