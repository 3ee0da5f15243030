"""Preparing an upload: the content's MD5 for change detection, and gzip for text files.

``prepare()`` reads the content once. It records the MD5 and size of the original bytes (stored
as the object's ``x-amz-meta-md5``, so change detection holds for multipart and SSE uploads whose
ETag is not an MD5), and, for names with a compressible extension, gzips them on the way.
The compressed bytes are stored, with ``Content-Encoding: gzip``, only when they are smaller.

The gzip stream is deterministic (no timestamp, fixed level), so the same content always gives
the same stored bytes and the same single-part ETag: an unchanged file is recognised from a
bucket listing without asking the server for its metadata.

The prepared bytes are held in a spooled temporary file: in memory up to ``spool_limit`` bytes,
on disk beyond that, so memory stays bounded whatever the file size.
"""

from __future__ import annotations

import contextlib
import hashlib
import posixpath
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.core.files.base import File

MD5_METADATA = "x-amz-meta-md5"
GZIP_LEVEL = 6
GZIP_WBITS = 31  # zlib's gzip container: no file name, modification time 0
CHUNK = 256 * 1024


@dataclass(frozen=True)
class Fingerprint:
    """The original bytes' size and MD5, and the size and MD5 of what would be stored."""

    size: int
    md5: str
    stored_size: int
    stored_md5: str
    gzipped: bool


def compressible(name: str, extensions: Iterable[str]) -> bool:
    return posixpath.splitext(name)[1].lower() in extensions


def _chunks(content: Any) -> Iterator[bytes]:
    with contextlib.suppress(AttributeError, OSError, ValueError):
        content.seek(0)  # a stream that cannot seek is read from where it stands
    while chunk := content.read(CHUNK):
        yield chunk.encode("utf-8") if isinstance(chunk, str) else chunk


class _Digest:
    """Counts and hashes the bytes written to it, and copies them to ``sink`` when given."""

    def __init__(self, sink: IO[bytes] | None) -> None:
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0
        self.sink = sink

    def write(self, data: bytes) -> None:
        if data:
            self.md5.update(data)
            self.size += len(data)
            if self.sink is not None:
                self.sink.write(data)


def _digest(
    chunks: Iterable[bytes], gzip: bool, raw_sink: IO[bytes] | None = None, gz_sink: IO[bytes] | None = None
) -> tuple[_Digest, _Digest | None]:
    raw = _Digest(raw_sink)
    packed = _Digest(gz_sink) if gzip else None
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, GZIP_WBITS) if gzip else None
    for chunk in chunks:
        raw.write(chunk)
        if compressor is not None and packed is not None:
            packed.write(compressor.compress(chunk))
    if compressor is not None and packed is not None:
        packed.write(compressor.flush())
    return raw, packed


def _fingerprint(raw: _Digest, packed: _Digest | None) -> Fingerprint:
    use_gzip = packed is not None and packed.size < raw.size
    stored = packed if use_gzip and packed is not None else raw
    return Fingerprint(
        size=raw.size,
        md5=raw.md5.hexdigest(),
        stored_size=stored.size,
        stored_md5=stored.md5.hexdigest(),
        gzipped=use_gzip,
    )


def fingerprint_path(path: str, gzip: bool) -> Fingerprint:
    """What uploading the local file at ``path`` would store, without storing anything."""
    with open(path, "rb") as handle:
        return _fingerprint(*_digest(_chunks(handle), gzip))


class PreparedFile(File):
    """The bytes to upload, with the headers that describe them (Content-Encoding, MD5 metadata).

    ``upload_headers`` replaces the storage's own headers for this upload: they are computed
    when the file is prepared, in the thread that called save().
    """

    def __init__(self, spool: IO[bytes], name: str, fingerprint: Fingerprint, content_type: str | None):
        super().__init__(spool, name)
        self.fingerprint = fingerprint
        self.size = fingerprint.stored_size
        self.content_type = content_type
        self.upload_headers: dict[str, str] = {}


def prepare(
    name: str,
    content: Any,
    *,
    gzip: bool,
    headers: dict[str, str],
    spool_limit: int,
    content_type: str | None = None,
) -> PreparedFile:
    """Read ``content`` once into a spooled file (gzipped when that is smaller); see the module doc."""
    raw_spool = tempfile.SpooledTemporaryFile(max_size=spool_limit)  # noqa: SIM115 (owned by the result)
    gz_spool = tempfile.SpooledTemporaryFile(max_size=spool_limit) if gzip else None  # noqa: SIM115
    try:
        raw, packed = _digest(_chunks(content), gzip, raw_spool, gz_spool)
    except BaseException:
        raw_spool.close()
        if gz_spool is not None:
            gz_spool.close()
        raise
    fingerprint = _fingerprint(raw, packed)
    keep, drop = (gz_spool, raw_spool) if fingerprint.gzipped else (raw_spool, gz_spool)
    if drop is not None:
        drop.close()
    assert keep is not None
    keep.seek(0)
    prepared = PreparedFile(keep, name, fingerprint, content_type)
    without = {key: value for key, value in headers.items() if key.lower() != "content-encoding"}
    prepared.upload_headers = {**without, MD5_METADATA: fingerprint.md5}
    if fingerprint.gzipped:
        prepared.upload_headers["Content-Encoding"] = "gzip"
    return prepared
