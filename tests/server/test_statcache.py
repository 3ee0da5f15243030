"""The stat cache (MINIO_STAT_CACHE): answers from Django's cache, invalidated by our own writes.

Each test runs on locmem and on Redis (``cache_kind``); two storage instances stand for two
processes sharing the cache.
"""

import io
import time

import pytest
from django.core.files.base import ContentFile
from django.db.models import ImageField as DjangoImageField
from django.db.models.fields.files import ImageFieldFile as DjangoImageFieldFile
from PIL import Image

from django_minio_backend.fields import ImageField, ImageFieldFile
from django_minio_backend.models import MinioBackend
from django_minio_backend.testing import assert_max_requests, count_requests

from tests.support import PRIVATE, put


@pytest.fixture
def cached(minio_settings, cache_kind, stated_capabilities):
    def build(**options):
        return MinioBackend(
            bucket_name=PRIVATE,
            storage_name="default",
            MINIO_STAT_CACHE=True,
            **stated_capabilities,
            **options,
        )

    return build


def test_exists_size_and_modified_time_are_asked_once(cached, name):
    storage = cached()
    storage.save(f"{name}/a.txt", ContentFile(b"abc"))
    with assert_max_requests(1):
        assert storage.exists(f"{name}/a.txt")
    with assert_max_requests(0):
        for _ in range(3):
            assert storage.exists(f"{name}/a.txt") and storage.size(f"{name}/a.txt") == 3
            modified = storage.get_modified_time(f"{name}/a.txt")
    assert modified == MinioBackend(bucket_name=PRIVATE).get_modified_time(f"{name}/a.txt")


def test_a_missing_object_is_cached_until_this_package_saves_it(cached, name):
    storage, other_process = cached(), cached()
    assert not storage.exists(f"{name}/thumb.jpg")
    with assert_max_requests(0):
        assert not storage.exists(f"{name}/thumb.jpg")
        with pytest.raises(FileNotFoundError):
            storage.size(f"{name}/thumb.jpg")
    other_process.save(f"{name}/thumb.jpg", ContentFile(b"jpeg"))
    assert storage.exists(f"{name}/thumb.jpg") and storage.size(f"{name}/thumb.jpg") == 4


@pytest.mark.parametrize("write", ["overwrite", "delete", "copy", "rename", "delete_prefix", "open_w"])
def test_every_write_of_this_package_invalidates_in_every_process(cached, name, write):
    reader, writer = cached(), cached(replace_existing=True)
    source, target = f"{name}/d/src.txt", f"{name}/d/dst.txt"
    writer.save(source, ContentFile(b"one"))
    writer.save(target, ContentFile(b"22"))
    assert (reader.size(source), reader.size(target)) == (3, 2)
    if write == "overwrite":
        writer.save(target, ContentFile(b"4444"))
        expected = {source: 3, target: 4}
    elif write == "delete":
        writer.delete(target)
        expected = {source: 3, target: None}
    elif write == "copy":
        writer.copy(source, target)
        expected = {source: 3, target: 3}
    elif write == "rename":
        writer.rename(source, target)
        expected = {source: None, target: 3}
    elif write == "delete_prefix":
        writer.delete_prefix(f"{name}/d")
        expected = {source: None, target: None}
    else:
        with writer.open(target, "wb") as handle:
            handle.write(b"55555")
        expected = {source: 3, target: 5}
    for entry, size in expected.items():
        assert reader.exists(entry) is (size is not None)
        if size is not None:
            assert reader.size(entry) == size


def test_writes_by_others_are_seen_after_the_timeout(cached, s3_server, name):
    storage = cached(MINIO_STAT_CACHE_TIMEOUT=1)
    assert not storage.exists(f"{name}/direct.txt")
    put(s3_server, PRIVATE, storage.store.key(f"{name}/direct.txt"), b"from elsewhere")
    assert not storage.exists(f"{name}/direct.txt")  # still the cached answer
    time.sleep(1.2)  # the entry's timeout, not a timing assertion
    assert storage.exists(f"{name}/direct.txt")


def test_off_by_default_every_call_asks(minio_settings, stated_capabilities, name):
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", **stated_capabilities)
    storage.save(f"{name}/a.txt", ContentFile(b"abc"))
    with count_requests() as made:
        storage.exists(f"{name}/a.txt")
        storage.size(f"{name}/a.txt")
    assert [event.operation for event in made] == ["HeadObject", "HeadObject"]


def png(width: int, height: int) -> ContentFile:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buffer, format="PNG")
    return ContentFile(buffer.getvalue())


def field_file(storage, name: str, field_class=ImageField):
    field = field_class(storage=storage, upload_to="x")
    field.set_attributes_from_name("image")
    file_class = ImageFieldFile if field_class is ImageField else DjangoImageFieldFile
    return file_class(None, field, name)


def test_image_dimensions_are_read_once_then_cached(cached, minio_settings, name):
    storage = cached()
    saved = storage.save(f"{name}/pic.png", png(31, 17))
    oracle = field_file(MinioBackend(bucket_name=PRIVATE), saved, DjangoImageField)
    assert (oracle.width, oracle.height) == (31, 17)
    with assert_max_requests(1):  # one GET of the image's head
        first = field_file(storage, saved)
        assert (first.width, first.height) == (31, 17)
    with assert_max_requests(0):
        for _ in range(3):  # later renders: new model instances
            again = field_file(storage, saved)
            assert (again.width, again.height) == (31, 17)
    cached(replace_existing=True).save(saved, png(5, 6))
    replaced = field_file(storage, saved)
    assert (replaced.width, replaced.height) == (5, 6)


def test_image_dimensions_without_the_cache_cost_what_djangos_do(minio_settings, name):
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default")
    saved = storage.save(f"{name}/pic.png", png(8, 9))
    with count_requests() as ours:
        file = field_file(storage, saved)
        assert (file.width, file.height) == (8, 9)
    with count_requests() as djangos:
        file = field_file(storage, saved, DjangoImageField)
        assert (file.width, file.height) == (8, 9)
    assert [event.operation for event in ours] == [event.operation for event in djangos] == ["GetObject"]
