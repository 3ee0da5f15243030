from django.db import models

from .storages import get_private_storage, get_public_storage


class PrivateAttachment(models.Model):
    file = models.FileField(storage=get_private_storage, upload_to="private/")


class PublicAttachment(models.Model):
    file = models.FileField(storage=get_public_storage, upload_to="public/")


class ScanField(models.FileField):
    """A FileField subclass: the orphan cleaner must see it too."""


class Photo(models.Model):
    # No storage argument: Django's default_storage, an instance (STORAGES["default"]).
    image = models.ImageField(upload_to="photos/", blank=True)
    scan = ScanField(storage=get_public_storage, upload_to="scans/", blank=True)
