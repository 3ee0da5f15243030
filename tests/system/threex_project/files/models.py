# Step 4 of the 3.x README (seeds 000 and 001): the field gets a storage instance.
from django.db import models

from django_minio_backend import MinioBackend, iso_date_prefix


class PrivateAttachment(models.Model):
    file = models.FileField(
        verbose_name="Object Upload",
        storage=MinioBackend(bucket_name="django-backend-dev-private"),
        upload_to=iso_date_prefix,
    )


class Document(models.Model):
    # No storage argument: the default storage (DEFAULT_FILE_STORAGE or STORAGES["default"]).
    file = models.FileField(upload_to="documents/")
