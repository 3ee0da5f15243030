"""Name rules without a server: normalisation, refused names, and keys under MINIO_LOCATION."""

import pytest
from django.core.exceptions import SuspiciousFileOperation

from django_minio_backend.names import clean_name, directory_prefix, name_from_key, object_key


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
