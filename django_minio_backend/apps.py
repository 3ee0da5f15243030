"""The Django app: registers the system checks and runs the opt-in start-up consistency check."""

from django.apps import AppConfig


class DjangoMinioBackendConfig(AppConfig):
    name = "django_minio_backend"
    label = "django_minio_backend"
    verbose_name = "MinIO storage backend"
    default_auto_field = "django.db.models.AutoField"
