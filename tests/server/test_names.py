"""Object names are POSIX, relative and confined."""

import io

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile

from django_minio_backend.models import MinioBackend

from tests.support import PRIVATE

# -- on the server ---------------------------------------------------------------------------


@pytest.fixture
def located(minio_settings, name):
    """A storage under MINIO_LOCATION "<name>/loc", with an object stored at that key itself."""
    location = f"{name}/loc"
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_LOCATION=location)
    storage.client.put_object(bucket_name=PRIVATE, object_name=location, data=io.BytesIO(b"key"), length=3)
    return storage, location


@pytest.mark.parametrize("root", ["", ".", "./"])
def test_location_key_itself_is_unreachable(located, root):
    storage, location = located
    for action in (storage.open, storage.exists, storage.size, storage.delete, storage.url):
        with pytest.raises(SuspiciousFileOperation, match="empty"):
            action(root)
    with pytest.raises(SuspiciousFileOperation):
        storage.save(root, ContentFile(b"overwrite?"))
    with pytest.raises(SuspiciousFileOperation):
        MinioBackend(
            bucket_name=PRIVATE, storage_name="default", MINIO_LOCATION=location, replace_existing=True
        ).save(root, ContentFile(b"overwrite?"))
    stat = storage.client.stat_object(bucket_name=PRIVATE, object_name=location)
    assert stat.size == 3  # neither deleted nor overwritten
    assert storage.listdir(root) == ([], [])  # the root directory lists fine (and is empty)


@pytest.mark.parametrize("blank", ["", " ", "   "])
def test_empty_and_blank_names_raise_suspicious_file_operation_with_a_message(storage, blank):
    for action in (storage.open, storage.exists, storage.size, storage.delete):
        with pytest.raises(SuspiciousFileOperation, match=r"\S"):
            action(blank)
    with pytest.raises(SuspiciousFileOperation, match=r"\S"):
        storage.save(blank, ContentFile(b"x"))


@pytest.mark.parametrize("colon_name", ["a:b.txt", "1:2.txt", "C:x.txt"])
def test_names_with_a_colon_are_ordinary_keys(located, colon_name):
    storage, location = located
    saved = storage.save(colon_name, ContentFile(b"colon"))
    assert saved == colon_name
    assert storage.exists(colon_name) and storage.size(colon_name) == 5
    with storage.open(colon_name) as handle:
        assert handle.read() == b"colon"
    assert storage.client.stat_object(bucket_name=PRIVATE, object_name=f"{location}/{colon_name}").size == 5
    assert storage.listdir("") == ([], [colon_name])
    storage.delete(colon_name)
    assert not storage.exists(colon_name)
