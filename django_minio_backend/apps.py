"""The Django app: registers the system checks and runs the opt-in start-up consistency check."""

from __future__ import annotations

from django.apps import AppConfig


class DjangoMinioBackendConfig(AppConfig):
    name = "django_minio_backend"
    label = "django_minio_backend"
    verbose_name = "MinIO storage backend"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from django.core import checks as django_checks

        from . import checks
        from .ops import server_checks

        django_checks.register(checks.run_all, "minio_backend")
        django_checks.register(server_checks.run, "minio_backend", deploy=True)
        run_startup_check()


def run_startup_check() -> None:
    """Initialise buckets once per process, if some alias has MINIO_CONSISTENCY_CHECK_ON_START.

    When no alias asks for it, this reads settings only: no network I/O.
    """
    from .ops import startup

    startup.run_once()
