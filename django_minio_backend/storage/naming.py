"""Race-free unique names: new objects are created with S3 conditional writes.

When ``replace_existing`` is False, a save must never overwrite an object, even one another thread
or process creates at the same moment. Asking "does it exist?" and then writing leaves a window in
which two writers both see a free name. Instead, every new object is written with
``If-None-Match: *`` (see core/conditional.py): the server refuses (412) to create a key that
already exists, the core raises NameTaken, and ``MinioBackend.save()`` tries the next name
Django's rules give, as computed here, without any request.

- Single-part uploads are one conditional PUT: one request per save instead of HEAD + PUT.
- Multipart uploads first claim the name with an empty conditional PUT that carries the claim
  metadata, then upload over it. Not every server honours If-None-Match on
  CompleteMultipartUpload (Ceph RGW 16 ignores it), so the claim is what keeps this race-free.
  If the upload fails, the claim is deleted.

Where the server does not honour If-None-Match on PUT (OpenStack Swift's s3api), a new name is
checked with HEAD and then written. Saves of one name in one process take the same lock from the
HEAD to the end of the PUT (:func:`head_then_put_lock`), so threads and async tasks of a process
still get distinct names; saves in other processes can still pick the same free name, and then
the last write wins.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Callable

from django.core.files.storage import Storage

MAX_ATTEMPTS = 10  # Django's 7-character random suffixes practically never collide twice
# A fixed set of locks, shared by name hash: bounded however many names a process saves.
_HEAD_THEN_PUT_LOCKS = tuple(threading.Lock() for _ in range(64))


def head_then_put_lock(bucket: str, key: str) -> threading.Lock:
    """The lock that saves of ``key`` in ``bucket`` hold from their HEAD to the end of their PUT."""
    return _HEAD_THEN_PUT_LOCKS[zlib.crc32(f"{bucket}/{key}".encode()) % len(_HEAD_THEN_PUT_LOCKS)]


class _NameChooser(Storage):
    """Django's name rules (suffixes, truncation to max_length), with known-taken names as exists()."""

    def __init__(self, taken: set[str], alternative: Callable[[str, str], str]) -> None:
        self._taken = taken
        self._alternative = alternative

    def exists(self, name: str) -> bool:
        return name in self._taken

    def get_alternative_name(self, file_root: str, file_ext: str) -> str:
        return self._alternative(file_root, file_ext)


def first_name(alternative: Callable[[str, str], str], name: str, max_length: int | None) -> str:
    """The name to try first: ``name`` itself, shortened if it exceeds ``max_length``. No request."""
    return _NameChooser(set(), alternative).get_available_name(name, max_length=max_length)


def next_name(
    alternative: Callable[[str, str], str], taken: set[str], name: str, max_length: int | None
) -> str:
    """The next candidate after the server refused every name in ``taken``. No request."""
    return _NameChooser(taken, alternative).get_available_name(name, max_length=max_length)
