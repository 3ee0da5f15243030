"""Which seekable sources parallel parts read with os.pread (no shared position) (issue 24)."""

from __future__ import annotations

import io

from django.core.files import File
from django.core.files.uploadedfile import TemporaryUploadedFile

from django_minio_backend.core.put import RangeSource


class _Shouting(File):
    """A File whose read() changes the bytes: its descriptor must not be read directly."""

    def read(self, size: int = -1) -> bytes:
        return self.file.read(size).upper()


def _read(ranges: RangeSource, offset: int, size: int) -> bytes:
    return ranges.reader(offset).read(size)


def test_a_plain_file_and_an_uploaded_temporary_file_are_read_with_pread(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"0123456789")
    with path.open("rb") as handle:
        ranges = RangeSource.of(File(handle))
        assert ranges._fd is not None
        handle.seek(7)  # the shared position does not matter
        assert _read(ranges, 2, 3) == b"234"
    upload = TemporaryUploadedFile("u.bin", "application/octet-stream", 10, None)
    upload.write(b"abcdefghij")
    upload.seek(0)
    ranges = RangeSource.of(upload)
    assert ranges._fd is not None
    assert _read(ranges, 5, 5) == b"fghij"
    upload.close()


def test_a_wrapper_that_changes_the_bytes_and_memory_are_read_through_read(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"abcdef")
    with path.open("rb") as handle:
        ranges = RangeSource.of(_Shouting(handle))
        assert ranges._fd is None
        assert _read(ranges, 1, 3) == b"BCD"
    ranges = RangeSource.of(File(io.BytesIO(b"xyz")))
    assert ranges._fd is None
    assert _read(ranges, 1, 5) == b"yz"
