"""Bad input gets a clear error before any request; odd but valid input round-trips.

Also covered elsewhere: name rules in test_names.py, open() write modes in test_offline.py, option
types, misspelled keys and MINIO_URL_EXPIRY_HOURS over 7 days in test_options.py, and empty,
str and non-seekable content for a new name in test_storage.py.
"""

import io
from datetime import timedelta

import pytest
import urllib3
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from django_minio_backend.errors import ConfigurationError
from django_minio_backend.models import MinioBackend

from tests.support import PRIVATE, NonSeekableStream

http = urllib3.PoolManager()

BAD_NAMES = {
    "dot-dot": "a/../../etc/passwd",
    "absolute": "/etc/passwd",
    "backslash absolute": "\\\\server\\share\\x",
    "blank": "   ",
    "NUL": "a\x00b.txt",
    "control": "a\x1bb.txt",
    "DEL": "a\x7f.txt",
    "over 1024 bytes": "d/" + "é" * 520,
}

OPERATIONS = {
    "save": lambda s, n: s.save(n, ContentFile(b"x")),
    "open": lambda s, n: s.open(n),
    "exists": lambda s, n: s.exists(n),
    "size": lambda s, n: s.size(n),
    "modified time": lambda s, n: s.get_modified_time(n),
    "delete": lambda s, n: s.delete(n),
    "url": lambda s, n: s.url(n),
    "listdir": lambda s, n: s.listdir(n),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("bad", list(BAD_NAMES))
def test_bad_names_are_refused_by_every_operation_before_any_request(
    counted_storage, counter, bad, operation
):
    with pytest.raises(SuspiciousFileOperation):
        OPERATIONS[operation](counted_storage, BAD_NAMES[bad])
    assert counter.requests == []


def test_bad_names_are_refused_when_replacing_too(minio_settings, counter):
    storage = MinioBackend(
        bucket_name=PRIVATE, storage_name="default", replace_existing=True, MINIO_HTTP_CLIENT=counter
    )
    for bad in BAD_NAMES.values():
        with pytest.raises(SuspiciousFileOperation):
            storage.save(bad, ContentFile(b"x"))
    assert counter.requests == []


def test_unicode_space_and_plus_names_get_distinct_copies_with_working_urls(storage, public_storage, name):
    for target in (storage, public_storage):
        first = target.save(f"{name}/ünï cøde + plus.txt", ContentFile(b"one"))
        second = target.save(f"{name}/ünï cøde + plus.txt", ContentFile(b"two"))
        assert second != first and second.startswith(f"{name}/ünï cøde + plus_")
        assert sorted(target.listdir(name)[1]) == sorted(n.split("/", 1)[1] for n in (first, second))
        assert http.request("GET", target.url(second)).data == b"two"
        assert http.request("GET", target.url(first)).data == b"one"


@pytest.mark.parametrize("odd", ["we!rd*(name)'s.txt", "a&b$c@d=e;f:g,h.txt", "q?x#y[z].txt", "t~%20.txt"])
def test_punctuation_in_names_round_trips_through_signed_requests(storage, name, odd):
    first = storage.save(f"{name}/{odd}", ContentFile(b"1"))
    second = storage.save(f"{name}/{odd}", ContentFile(b"2"))  # 412, then a new name
    assert first == f"{name}/{odd}" and second != first
    assert http.request("GET", storage.url(first)).data == b"1"
    assert http.request("GET", storage.url(second)).data == b"2"


@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (lambda: ContentFile(b""), b""),
        (lambda: ContentFile("text ✓"), "text ✓".encode()),
        (lambda: NonSeekableStream(b"streamed " * 1000), b"streamed " * 1000),
        (lambda: io.StringIO("plain text io"), b"plain text io"),
    ],
    ids=["empty", "str", "non-seekable", "text stream"],
)
def test_unusual_content_round_trips(minio_settings, name, replace, content, expected):
    storage = MinioBackend(bucket_name=PRIVATE, storage_name="default", replace_existing=replace)
    saved = storage.save(f"{name}/content.txt", content())
    with storage.open(saved) as handle:
        assert handle.read() == expected
    assert storage.size(saved) == len(expected)


@pytest.mark.parametrize("content", [b"raw bytes", "raw str", None, 42])
def test_content_that_is_not_a_file_is_refused_clearly(counted_storage, counter, content):
    with pytest.raises(TypeError, match="file-like object.*ContentFile"):
        counted_storage.save("x.txt", content)
    assert counter.requests == []


@pytest.mark.parametrize("expires", [timedelta(days=7, seconds=1), timedelta(days=30), timedelta(0)])
def test_url_expiry_outside_one_second_to_7_days_is_refused(counted_storage, counter, expires):
    with pytest.raises(ValueError, match="7 days"):
        counted_storage.url("a.txt", expires=expires)
    assert counter.requests == []


def test_unknown_option_key_in_storages_names_the_right_key(settings, minio_options):
    options = {**minio_options, "MINIO_ENDPONT": "127.0.0.1:9"}
    settings.STORAGES = {
        "default": {"BACKEND": "django_minio_backend.models.MinioBackend", "OPTIONS": options}
    }
    storages._storages = {}
    storages.backends  # noqa: B018  (re-reads settings.STORAGES)
    with pytest.raises(ConfigurationError, match="MINIO_ENDPONT.*Did you mean MINIO_ENDPOINT"):
        storages["default"]
