from django.db import models

from django_minio_backend import iso_date_prefix

from .storages import image_storage, private_storage, public_storage


class PrivateAttachment(models.Model):
    title = models.CharField(max_length=200)
    file = models.FileField(storage=private_storage, upload_to=iso_date_prefix)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title


class PublicAttachment(models.Model):
    title = models.CharField(max_length=200)
    file = models.FileField(storage=public_storage, upload_to=iso_date_prefix)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title


class Image(models.Model):
    title = models.CharField(max_length=200)
    image = models.ImageField(
        storage=image_storage, upload_to="images/", width_field="width", height_field="height"
    )
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.title
