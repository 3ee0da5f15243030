from django_minio_backend.models import MinioBackend


def get_private_storage() -> MinioBackend:
    return MinioBackend(bucket_name="test-private", storage_name="default")


def get_public_storage() -> MinioBackend:
    return MinioBackend(bucket_name="test-public", storage_name="default")
