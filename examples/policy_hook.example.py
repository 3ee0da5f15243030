"""MINIO_POLICY_HOOKS: bucket policies of your own, applied by ``manage.py initialize_buckets``.

Each hook is a ``(bucket name, policy dict)`` pair. The policy is sent to the server as it is
(S3 bucket policy JSON). This example lets anyone read objects under ``shared/`` in the private
bucket, while everything else there stays private; nobody may list the bucket.

Copy the pieces you need into your settings.
"""

from datetime import timedelta

PRIVATE_BUCKET = "demo-private"

shared_prefix_policy = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AnonymousReadOfSharedPrefix",
            "Effect": "Allow",
            "Principal": {"AWS": ["*"]},
            "Action": ["s3:GetObject"],
            "Resource": [f"arn:aws:s3:::{PRIVATE_BUCKET}/shared/*"],
        }
    ],
}

STORAGES = {
    "default": {
        "BACKEND": "django_minio_backend.models.MinioBackend",
        "OPTIONS": {
            "MINIO_ENDPOINT": "minio.example.com",
            "MINIO_USE_HTTPS": True,
            "MINIO_ACCESS_KEY": "read-from-your-secret-store",
            "MINIO_SECRET_KEY": "read-from-your-secret-store",
            "MINIO_PRIVATE_BUCKETS": [PRIVATE_BUCKET],
            "MINIO_DEFAULT_BUCKET": PRIVATE_BUCKET,
            "MINIO_URL_EXPIRY_HOURS": timedelta(hours=1),
            "MINIO_POLICY_HOOKS": [(PRIVATE_BUCKET, shared_prefix_policy)],
        },
    },
}
