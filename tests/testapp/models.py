from django.db import models

from .storages import get_private_storage, get_public_storage


class PrivateAttachment(models.Model):
    file = models.FileField(storage=get_private_storage, upload_to="private/")


class PublicAttachment(models.Model):
    file = models.FileField(storage=get_public_storage, upload_to="public/")
