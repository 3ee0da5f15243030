"""Object names are POSIX, relative and confined."""

import io

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile

from django_minio_backend.models import MinioBackend
from django_minio_backend.names import clean_name, directory_prefix, name_from_key, object_key

from tests.support import PRIVATE


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("a/b/c.txt", "a/b/c.txt"),
        ("a\\b\\c.txt", "a/b/c.txt"),
        ("a//b/./c.txt", "a/b/c.txt"),
        ("dir/", "dir/"),
        ("", ""),
        (".", ""),
        ("./", ""),
        ("héllo wörld+1.txt", "héllo wörld+1.txt"),
        ("a:b.txt", "a:b.txt"),
        ("1:2.txt", "1:2.txt"),
        ("C:\\x", "C:/x"),  # as Django's validate_file_name reads it: relative, "\\" separates
        (" a.txt ", " a.txt "),
    ],
)
def test_clean_name_normalises_to_posix(raw, cleaned):
    assert clean_name(raw) == cleaned


@pytest.mark.parametrize(
    "raw",
    [
        "../etc/passwd",
        "a/../../b",
        "/etc/passwd",
        "\\\\server\\share",
        "\\x",
        "a\x00b",
        "a\nb",
        "a\x7fb",
        " ",
        "   ",
    ],
)
def test_dangerous_names_are_refused(raw):
    with pytest.raises(SuspiciousFileOperation):
        clean_name(raw)


def test_names_over_1024_bytes_are_refused():
    object_key("", "a" * 1024)
    with pytest.raises(SuspiciousFileOperation, match="1024"):
        object_key("", "é" * 513)
    with pytest.raises(SuspiciousFileOperation, match="1024"):
        object_key("media", "a" * 1020)


def test_location_prefix_joins_and_cannot_be_escaped():
    assert object_key("media", "a/b.txt") == "media/a/b.txt"
    assert name_from_key("media", "media/a/b.txt") == "a/b.txt"
    assert directory_prefix("media", "") == "media/"
    assert directory_prefix("", "") == ""
    assert directory_prefix("", "docs") == "docs/"
    with pytest.raises(SuspiciousFileOperation):
        object_key("media", "../other/x")


def test_name_from_key_refuses_keys_outside_the_location():
    assert name_from_key("", "any/key") == "any/key"
    for outside in ("other/x", "media", "media2/x", "medi/x"):
        with pytest.raises(SuspiciousFileOperation, match="outside MINIO_LOCATION"):
            name_from_key("media", outside)


@pytest.mark.parametrize("location", ["", "loc"])
@pytest.mark.parametrize("raw", ["", ".", "./", "a/..", " ", "   ", "./ "])
def test_empty_or_blank_names_have_no_key(location, raw):
    with pytest.raises(SuspiciousFileOperation, match=r"empty|blank|'\.\.'"):
        object_key(location, raw)


def test_directory_prefix_of_the_root_is_the_location():
    for root in ("", ".", "./"):
        assert directory_prefix("loc", root) == "loc/"
        assert directory_prefix("", root) == ""
    assert directory_prefix("loc", "a:b/") == "loc/a:b/"


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
