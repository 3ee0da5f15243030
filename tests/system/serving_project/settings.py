"""Settings from the environment the harness (tests/support/serving.py) sets: the S3 server and bucket."""

import os

SECRET_KEY = "serving-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.system.serving_project.urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
MIDDLEWARE = []
DATABASES = {}
USE_TZ = True
LOGGING_CONFIG = None
BUCKET = os.environ["SERVING_BUCKET"]
STORAGES = {
    "default": {
        "BACKEND": "django_minio_backend.models.MinioBackend",
        "OPTIONS": {
            "MINIO_ENDPOINT": os.environ["MINIO_ENDPOINT"],
            "MINIO_ACCESS_KEY": os.environ["MINIO_ACCESS_KEY"],
            "MINIO_SECRET_KEY": os.environ["MINIO_SECRET_KEY"],
            "MINIO_REGION": os.environ.get("MINIO_REGION") or None,
            "MINIO_USE_HTTPS": False,
            "MINIO_PRIVATE_BUCKETS": [BUCKET],
            "MINIO_DEFAULT_BUCKET": BUCKET,
            "MINIO_BUCKET_CHECK_ON_SAVE": False,
        },
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
