"""Settings in the 3.x style: step 3 of the 3.5.0 README (seed 000), as published.

Only the server differs (tests/test_dropin_projects.py sets the MINIO_TEST_* variables), and
THREEX_STYLE picks how the storages are selected: "setting" uses DEFAULT_FILE_STORAGE and
STATICFILES_STORAGE (Django 4.2), "storages" uses STORAGES entries without OPTIONS.
"""

import os
from datetime import timedelta
from typing import List, Tuple  # noqa: UP035 (as the 3.x README wrote it)

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "django_minio_backend",  # https://github.com/theriverman/django-minio-backend
    "files",
]
SECRET_KEY = "threex-tests-only"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["THREEX_DATABASE"]}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
STATIC_URL = "/static/"  # ignored, but Django requires it
MEDIA_URL = "/media/"

MINIO_ENDPOINT = os.environ["MINIO_TEST_ENDPOINT"]  # 'minio.your-company.co.uk'
MINIO_EXTERNAL_ENDPOINT = os.environ["MINIO_TEST_ENDPOINT"]  # Default is same as MINIO_ENDPOINT
MINIO_EXTERNAL_ENDPOINT_USE_HTTPS = (
    os.environ["MINIO_TEST_USE_HTTPS"] == "1"
)  # Default is same as MINIO_USE_HTTPS
MINIO_REGION = os.environ["MINIO_TEST_REGION"]  # Default is set to None
MINIO_ACCESS_KEY = os.environ["MINIO_TEST_ACCESS_KEY"]
MINIO_SECRET_KEY = os.environ["MINIO_TEST_SECRET_KEY"]
MINIO_USE_HTTPS = os.environ["MINIO_TEST_USE_HTTPS"] == "1"
MINIO_URL_EXPIRY_HOURS = timedelta(days=1)  # Default is 7 days (longest) if not defined
MINIO_CONSISTENCY_CHECK_ON_START = True
MINIO_PRIVATE_BUCKETS = [
    "django-backend-dev-private",
]
MINIO_PUBLIC_BUCKETS = [
    "django-backend-dev-public",
]
MINIO_POLICY_HOOKS: List[Tuple[str, dict]] = []  # noqa: UP006
MINIO_MEDIA_FILES_BUCKET = "my-media-files-bucket"  # replacement for MEDIA_ROOT
MINIO_STATIC_FILES_BUCKET = "my-static-files-bucket"  # replacement for STATIC_ROOT
MINIO_BUCKET_CHECK_ON_SAVE = True  # Default: True // Creates bucket if missing, then save

# Custom HTTP Client (OPTIONAL)
import certifi  # noqa: E402
import urllib3  # noqa: E402

timeout = timedelta(minutes=5).seconds
ca_certs = os.environ.get("SSL_CERT_FILE") or certifi.where()
MINIO_HTTP_CLIENT: urllib3.poolmanager.PoolManager = urllib3.PoolManager(
    timeout=urllib3.util.Timeout(connect=timeout, read=timeout),
    maxsize=10,
    cert_reqs="CERT_REQUIRED",
    ca_certs=ca_certs,
    retries=urllib3.Retry(total=5, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
)

# "Default File Storage Support" and "Static Files Support" of the 3.x README
MINIO_PRIVATE_BUCKETS.append(MINIO_MEDIA_FILES_BUCKET)
MINIO_PUBLIC_BUCKETS.append(MINIO_STATIC_FILES_BUCKET)
if os.environ["THREEX_STYLE"] == "setting":
    DEFAULT_FILE_STORAGE = "django_minio_backend.models.MinioBackend"
    STATICFILES_STORAGE = "django_minio_backend.models.MinioBackendStatic"
else:
    STORAGES = {
        "default": {"BACKEND": "django_minio_backend.models.MinioBackend"},
        "staticfiles": {"BACKEND": "django_minio_backend.models.MinioBackendStatic"},
    }
