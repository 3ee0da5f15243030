from django.db import models

from .storages import get_multi_storage, get_private_storage, get_public_storage


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


def document_upload_to(instance: "Document", filename: str) -> str:
    # A full URL ("archive://test-archive/2019/") picks the bucket; empty: the default bucket.
    return f"{instance.destination or 'docs/'}{filename}"


class Document(models.Model):
    """One FileField whose rows point into several buckets on several servers."""

    destination = models.CharField(max_length=100, blank=True)
    file = models.FileField(storage=get_multi_storage, upload_to=document_upload_to, max_length=255)
