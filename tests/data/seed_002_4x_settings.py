# The settings block of the django-minio-backend 4.x README (seed 002_29e8d81e9ac1616e.txt,
# "Integration", step 3), copied as published; only the line breaks the seed lost are restored.
# tests/server/test_dropin.py executes it and points its hosts at the test server.
from datetime import timedelta

STORAGES = {  # -- ADDED in Django 4.2
    # "staticfiles": {  # <-- DEFAULT STATIC FILES STORAGE
    #     "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",  # Uncomment this storage to use Django's default static files storage
    #     # and add STATIC_ROOT outside the STORAGES dict
    # },
    "staticfiles": {
        "BACKEND": "django_minio_backend.models.MinioBackendStatic",
        "OPTIONS": {
            "MINIO_ENDPOINT": "play.min.io",
            "MINIO_ACCESS_KEY": "Q3AM3UQ867SPQQA43P2F",
            "MINIO_SECRET_KEY": "zuf+tfteSlswRu7BJ86wekitnifILbZam1KYY3TG",
            "MINIO_USE_HTTPS": True,
            "MINIO_REGION": "us-east-1",
            "MINIO_URL_EXPIRY_HOURS": timedelta(days=1),  # Default is 7 days (longest) if not defined
            "MINIO_CONSISTENCY_CHECK_ON_START": True,
            "MINIO_STATIC_FILES_BUCKET": "my-static-files-bucket",
        },
    },
    "default": {
        "BACKEND": "django_minio_backend.models.MinioBackend",
        "OPTIONS": {
            "MINIO_ENDPOINT": "play.min.io",
            "MINIO_EXTERNAL_ENDPOINT": "external.min.io",
            "MINIO_EXTERNAL_ENDPOINT_USE_HTTPS": True,
            "MINIO_ACCESS_KEY": "Q3AM3UQ867SPQQA43P2F",
            "MINIO_SECRET_KEY": "zuf+tfteSlswRu7BJ86wekitnifILbZam1KYY3TG",
            "MINIO_USE_HTTPS": True,
            "MINIO_REGION": "us-east-1",
            "MINIO_PRIVATE_BUCKETS": ['django-backend-dev-private', 'my-media-files-bucket', ],
            "MINIO_PUBLIC_BUCKETS": ['django-backend-dev-public', 't5p2g08k31', '7xi7lx9rjh' ],
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
            "MINIO_URL_CACHE_PREFIX": 'minio_url_',  # Prefix for cache keys
        },
    },
}

# Custom HTTP Client (OPTIONAL)
import os
import certifi
import urllib3
timeout = timedelta(minutes=5).seconds
ca_certs = os.environ.get('SSL_CERT_FILE') or certifi.where()
STORAGES["default"]["OPTIONS"]["MINIO_HTTP_CLIENT"]: urllib3.poolmanager.PoolManager
STORAGES["default"]["OPTIONS"]["MINIO_HTTP_CLIENT"] = urllib3.PoolManager(
    timeout=urllib3.util.Timeout(connect=timeout, read=timeout),
    maxsize=10,
    cert_reqs='CERT_REQUIRED',
    ca_certs=ca_certs,
    retries=urllib3.Retry(
        total=5,
        backoff_factor=0.2,
        status_forcelist=[500, 502, 503, 504]
    )
)
