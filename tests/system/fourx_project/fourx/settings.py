"""Settings in the 4.x style: the STORAGES block of the 4.x README (seed 002), as published.

Only the server differs: "play.min.io" and "external.min.io" become the test server, and its
keys and scheme replace the playground's (tests/test_dropin.py sets the MINIO_TEST_* variables).
"""

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "fourx-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "django_minio_backend.apps.DjangoMinioBackendConfig",
    "attachments",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["FOURX_DATABASE"]}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
STATIC_URL = "/static/"
MEDIA_URL = "/media/"

SERVER = os.environ["MINIO_TEST_ENDPOINT"]  # in place of "play.min.io" and "external.min.io"
ACCESS_KEY = os.environ["MINIO_TEST_ACCESS_KEY"]
SECRET_KEY_S3 = os.environ["MINIO_TEST_SECRET_KEY"]
HTTPS = os.environ.get("MINIO_TEST_USE_HTTPS") == "1"
REGION = os.environ.get("MINIO_TEST_REGION", "us-east-1")

STORAGES = {  # -- ADDED in Django 4.2
    "staticfiles": {
        "BACKEND": "django_minio_backend.models.MinioBackendStatic",
        "OPTIONS": {
            "MINIO_ENDPOINT": SERVER,
            "MINIO_ACCESS_KEY": ACCESS_KEY,
            "MINIO_SECRET_KEY": SECRET_KEY_S3,
            "MINIO_USE_HTTPS": HTTPS,
            "MINIO_REGION": REGION,
            "MINIO_URL_EXPIRY_HOURS": timedelta(days=1),  # Default is 7 days (longest) if not defined
            "MINIO_CONSISTENCY_CHECK_ON_START": True,
            "MINIO_STATIC_FILES_BUCKET": "my-static-files-bucket",
        },
    },
    "default": {
        "BACKEND": "django_minio_backend.models.MinioBackend",
        "OPTIONS": {
            "MINIO_ENDPOINT": SERVER,
            "MINIO_EXTERNAL_ENDPOINT": SERVER,
            "MINIO_EXTERNAL_ENDPOINT_USE_HTTPS": HTTPS,
            "MINIO_ACCESS_KEY": ACCESS_KEY,
            "MINIO_SECRET_KEY": SECRET_KEY_S3,
            "MINIO_USE_HTTPS": HTTPS,
            "MINIO_REGION": REGION,
            "MINIO_PRIVATE_BUCKETS": ["django-backend-dev-private", "my-media-files-bucket"],
            "MINIO_PUBLIC_BUCKETS": ["django-backend-dev-public", "t5p2g08k31", "7xi7lx9rjh"],
            "MINIO_URL_EXPIRY_HOURS": timedelta(days=1),  # Default is 7 days (longest) if not defined
            "MINIO_CONSISTENCY_CHECK_ON_START": False,
            "MINIO_POLICY_HOOKS": [  # List[Tuple[str, dict]]
                # ('django-backend-dev-private', dummy_policy)
            ],
            "MINIO_DEFAULT_BUCKET": "my-media-files-bucket",
            "MINIO_STATIC_FILES_BUCKET": "my-static-files-bucket",
            "MINIO_BUCKET_CHECK_ON_SAVE": False,
            # (OPTIONAL) MULTIPART UPLOAD
            "MINIO_MULTIPART_UPLOAD": False,  # False by default
            "MINIO_MULTIPART_THRESHOLD": 10 * 1024 * 1024,  # 10MB default
            "MINIO_MULTIPART_PART_SIZE": 10 * 1024 * 1024,  # 10MB default
            # (OPTIONAL) URL CACHING
            "MINIO_URL_CACHING_ENABLED": True,  # Enable URL caching (disabled by default)
            "MINIO_URL_CACHE_TIMEOUT": 60 * 60 * 8,  # 8 hours in seconds
            "MINIO_URL_CACHE_PREFIX": "minio_url_",  # Prefix for cache keys
        },
    },
}
