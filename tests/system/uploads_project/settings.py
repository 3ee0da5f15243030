"""Settings from the environment tests/support/uploads_server.py sets: the S3 server, the bucket,
the database file."""

import os

SECRET_KEY = "uploads-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.system.uploads_project.urls"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_minio_backend.apps.DjangoMinioBackendConfig",
    "tests.system.uploads_project",
]
MIDDLEWARE = [
    "tests.system.uploads_project.counting.CountingMiddleware",  # first: it sees every request
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["UPLOADS_DB"]}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
STATIC_URL = "/static/"
LOGGING_CONFIG = None
BUCKET = os.environ["UPLOADS_BUCKET"]
OPTIONS = {
    "MINIO_ENDPOINT": os.environ["MINIO_ENDPOINT"],
    "MINIO_EXTERNAL_ENDPOINT": os.environ.get("MINIO_EXTERNAL_ENDPOINT") or None,
    "MINIO_ACCESS_KEY": os.environ["MINIO_ACCESS_KEY"],
    "MINIO_SECRET_KEY": os.environ["MINIO_SECRET_KEY"],
    "MINIO_REGION": os.environ.get("MINIO_REGION") or None,
    "MINIO_USE_HTTPS": False,
    "MINIO_EXTERNAL_ENDPOINT_USE_HTTPS": False,
    "MINIO_PRIVATE_BUCKETS": [BUCKET],
    "MINIO_DEFAULT_BUCKET": BUCKET,
}
STORAGES = {
    "default": {"BACKEND": "django_minio_backend.models.MinioBackend", "OPTIONS": OPTIONS},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
