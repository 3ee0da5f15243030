from django.core.files.storage import storages
from django.db import models


def default_storage():
    return storages["default"]


class Attachment(models.Model):
    title = models.CharField(max_length=200)
    file = models.FileField(storage=default_storage, upload_to="big/", max_length=255)
