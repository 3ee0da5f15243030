"""Django settings for the test suite. STORAGES point at a closed port until a test needs a server."""

SECRET_KEY = "tests-only-not-secret"
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django_minio_backend.apps.DjangoMinioBackendConfig",  # before staticfiles: its collectstatic
    "django.contrib.staticfiles",
    "tests.testapp",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
TIME_ZONE = "Europe/Budapest"
STATIC_URL = "/static/"
MEDIA_URL = "/media/"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

OFFLINE_OPTIONS = {
    "MINIO_ENDPOINT": "127.0.0.1:9",
    "MINIO_ACCESS_KEY": "offline-access",
    "MINIO_SECRET_KEY": "offline-secret-do-not-print",
    "MINIO_PRIVATE_BUCKETS": ["test-private"],
    "MINIO_PUBLIC_BUCKETS": ["test-public"],
    "MINIO_DEFAULT_BUCKET": "test-private",
    "MINIO_STATIC_FILES_BUCKET": "test-static",
}
STORAGES = {
    "default": {"BACKEND": "django_minio_backend.models.MinioBackend", "OPTIONS": dict(OFFLINE_OPTIONS)},
    "staticfiles": {
        "BACKEND": "django_minio_backend.models.MinioBackendStatic",
        "OPTIONS": dict(OFFLINE_OPTIONS),
    },
}
