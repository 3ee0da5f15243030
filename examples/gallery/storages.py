"""Storage callables for the models' FileFields.

Passing a callable (not an instance) as ``storage=`` keeps migrations free of settings: the
migration stores the function's import path, and the storage is built when first used.
"""

from django.conf import settings

from django_minio_backend.models import MinioBackend


def private_storage() -> MinioBackend:
    """Files only signed-in people may read: served through presigned URLs that expire."""
    return MinioBackend(bucket_name=settings.PRIVATE_BUCKET, storage_name="default")


def public_storage() -> MinioBackend:
    """Files anyone may download by a plain, stable URL."""
    return MinioBackend(bucket_name=settings.PUBLIC_BUCKET, storage_name="default")


def image_storage() -> MinioBackend:
    """Images for the gallery: public, so <img src> needs no signature."""
    return MinioBackend(bucket_name=settings.IMAGES_BUCKET, storage_name="default")
