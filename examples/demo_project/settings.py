"""Settings of the example project.

Everything that differs between machines comes from environment variables, read through ``env()``
so that ``ENV_KEYS`` lists every one of them (docker-compose.yml sets these, and a test checks
that they match). Without any variables the project talks to the S3 server that
``examples/run_demo.py`` starts.
"""

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
ENV_KEYS: set[str] = set()


def env(key: str, default: str = "") -> str:
    ENV_KEYS.add(key)
    return os.environ.get(key, default)


def env_flag(key: str, default: bool = False) -> bool:
    return env(key, "true" if default else "false").strip().lower() in ("1", "true", "yes", "on")


SECRET_KEY = env("DJANGO_SECRET_KEY", "demo-only-insecure-secret-key-change-me")
DEBUG = env_flag("DJANGO_DEBUG", True)
ALLOWED_HOSTS = [host for host in env("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if host]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django_minio_backend.apps.DjangoMinioBackendConfig",  # before staticfiles: its collectstatic
    "django.contrib.staticfiles",
    "gallery",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo_project.urls"
WSGI_APPLICATION = "demo_project.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env("DJANGO_DB_PATH", str(BASE_DIR / "db.sqlite3")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LOGIN_URL = "admin:login"

# The buckets of the demo. Public buckets are readable by URL but cannot be listed.
PRIVATE_BUCKET = env("DEMO_PRIVATE_BUCKET", "demo-private")
PUBLIC_BUCKET = env("DEMO_PUBLIC_BUCKET", "demo-public")
IMAGES_BUCKET = env("DEMO_IMAGES_BUCKET", "demo-images")
STATIC_BUCKET = env("DEMO_STATIC_BUCKET", "demo-static")

MINIO_OPTIONS = {
    # Django talks to MINIO_ENDPOINT; browsers get URLs for MINIO_EXTERNAL_ENDPOINT.
    "MINIO_ENDPOINT": env("MINIO_ENDPOINT", "127.0.0.1:9000"),
    "MINIO_EXTERNAL_ENDPOINT": env("MINIO_EXTERNAL_ENDPOINT") or None,
    "MINIO_ACCESS_KEY": env("MINIO_ACCESS_KEY", "minioadmin"),
    "MINIO_SECRET_KEY": env("MINIO_SECRET_KEY", "minioadmin"),
    "MINIO_USE_HTTPS": env_flag("MINIO_USE_HTTPS"),
    "MINIO_EXTERNAL_ENDPOINT_USE_HTTPS": env_flag(
        "MINIO_EXTERNAL_ENDPOINT_USE_HTTPS", env_flag("MINIO_USE_HTTPS")
    ),
    "MINIO_REGION": env("MINIO_REGION", "us-east-1"),
    "MINIO_PRIVATE_BUCKETS": [PRIVATE_BUCKET],
    "MINIO_PUBLIC_BUCKETS": [PUBLIC_BUCKET, IMAGES_BUCKET],
    "MINIO_DEFAULT_BUCKET": PRIVATE_BUCKET,
    "MINIO_STATIC_FILES_BUCKET": STATIC_BUCKET,
    "MINIO_URL_EXPIRY_HOURS": timedelta(hours=2),
    "MINIO_URL_CACHING_ENABLED": True,
    # Uploads go out in one PUT up to this size, multipart above it.
    "MINIO_MULTIPART_UPLOAD": True,
    "MINIO_MULTIPART_THRESHOLD": 16 * 1024 * 1024,
    "MINIO_MULTIPART_PART_SIZE": 16 * 1024 * 1024,
    "MINIO_CACHE_CONTROL": "max-age=3600",
    "MINIO_HEALTH_CHECK_TIMEOUT": 2,
}

STORAGES = {
    "default": {"BACKEND": "django_minio_backend.models.MinioBackend", "OPTIONS": dict(MINIO_OPTIONS)},
    # Content-hashed static names with a manifest kept in the bucket. With DEBUG on, {% static %}
    # gives the plain names (collectstatic uploads both); with DEBUG off, the hashed, immutable ones.
    "staticfiles": {
        "BACKEND": "django_minio_backend.models.MinioManifestStaticStorage",
        "OPTIONS": dict(MINIO_OPTIONS, MINIO_CACHE_CONTROL="max-age=86400"),
    },
}
# Static URLs point at the public static bucket; Django only needs STATIC_URL to be set.
STATIC_URL = "/static/"

# Presigned URLs are cached here (MINIO_URL_CACHING_ENABLED); any Django cache works.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Demo admin account, created by run_demo.py.
DEMO_ADMIN_USER = env("DEMO_ADMIN_USER", "admin")
DEMO_ADMIN_PASSWORD = env("DEMO_ADMIN_PASSWORD", "admin")
