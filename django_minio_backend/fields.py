"""An ``ImageField`` whose width and height come from the storage's stat cache.

Django's ``ImageFieldFile.width``/``.height`` open the image and read its header whenever they
are first asked on a model instance, so a page listing 50 images without ``width_field`` and
``height_field`` opens 50 objects on every render. ``ImageField`` here asks the storage instead
(``MinioBackend.image_dimensions``), which with MINIO_STAT_CACHE on reads each image once and then
answers from the cache. On any other storage it behaves exactly like Django's::

    from django_minio_backend.fields import ImageField

    class Photo(models.Model):
        image = ImageField(upload_to="photos")
"""

from __future__ import annotations

from django.db import models
from django.db.models.fields.files import ImageFieldFile as DjangoImageFieldFile


class ImageFieldFile(DjangoImageFieldFile):
    """Width and height from ``storage.image_dimensions(name)`` when the storage offers it."""

    def _storage_dimensions(self) -> tuple[int | None, int | None] | None:
        lookup = getattr(self.storage, "image_dimensions", None)
        if lookup is None or not self.name or getattr(self, "_committed", True) is False:
            return None
        remembered = getattr(self, "_minio_dimensions", None)  # per instance, as Django does
        if remembered is None or remembered[0] != self.name:
            remembered = self._minio_dimensions = (self.name, lookup(self.name))
        return remembered[1]

    @property
    def width(self) -> int | None:
        known = self._storage_dimensions()
        return known[0] if known is not None else DjangoImageFieldFile.width.fget(self)

    @property
    def height(self) -> int | None:
        known = self._storage_dimensions()
        return known[1] if known is not None else DjangoImageFieldFile.height.fget(self)


class ImageField(models.ImageField):
    attr_class = ImageFieldFile
