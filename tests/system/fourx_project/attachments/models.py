# models.py, as in the 4.x README (seed 002)
from django.db import models
from django.db.models.fields.files import FieldFile

from django_minio_backend import MinioBackend, iso_date_prefix  # noqa: F401 (the README imports both)

from .storages import get_private_storage, get_public_storage


class PrivateAttachment(models.Model):
    file: FieldFile = models.FileField(
        verbose_name="Object Upload", storage=get_private_storage, upload_to=iso_date_prefix
    )


class PublicAttachment(models.Model):
    file: FieldFile = models.FileField(
        verbose_name="Object Upload", storage=get_public_storage, upload_to=iso_date_prefix
    )


class Document(models.Model):
    # No storage argument: STORAGES["default"], whose MINIO_DEFAULT_BUCKET is my-media-files-bucket.
    file: FieldFile = models.FileField(upload_to="documents/")
