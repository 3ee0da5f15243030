from django_minio_backend.models import MinioBackend, MinioMultiBucketStorage


def get_private_storage() -> MinioBackend:
    return MinioBackend(bucket_name="test-private", storage_name="default")


def get_public_storage() -> MinioBackend:
    return MinioBackend(bucket_name="test-public", storage_name="default")


def get_multi_storage() -> MinioMultiBucketStorage:
    # "default" is on the session's test server; tests add an "archive" alias on a second one.
    return MinioMultiBucketStorage(MINIO_URL_SCHEMES={"minio": "default", "archive": "archive"})
