"""The one place that cleans and validates object names.

Django hands storages names in the host OS's style; S3 keys are POSIX-like strings. A name is
confined to its bucket (and to MINIO_LOCATION when set): no ``..`` segment, no absolute path, no
NUL or other control character, and at most 1024 bytes of UTF-8, which is S3's limit for a key.

As in Django's ``validate_file_name``, a backslash separates segments and only a leading slash
makes a name absolute: S3 has no drive letters, so ``a:b.txt`` and ``C:\\x`` are ordinary keys.
An object name must name something below the location: ``""``, ``"."``, ``"./"`` and blank names
are refused, so the MINIO_LOCATION key itself is never read, written or deleted. Only a directory
(``directory_prefix``) may be the root.

File names starting with ``RESERVED_PREFIX`` belong to the package (the objects it probes a
server with): a storage refuses them and its listings leave them out.
"""

from __future__ import annotations

import posixpath

from django.core.exceptions import SuspiciousFileOperation

MAX_KEY_BYTES = 1024
RESERVED_PREFIX = ".django-minio-backend-"


def is_reserved(key: str) -> bool:
    """Whether the last segment of ``key`` is one of the package's own names."""
    return key.rstrip("/").rsplit("/", 1)[-1].startswith(RESERVED_PREFIX)


def reserved_key(location: str, suffix: str) -> str:
    """A key for one of the package's own objects (never a storage name), under ``location``."""
    return _checked_key(f"{location}/{RESERVED_PREFIX}{suffix}" if location else RESERVED_PREFIX + suffix)


def clean_name(name: str) -> str:
    """Return ``name`` as a normalised POSIX object name, or raise SuspiciousFileOperation."""
    if not isinstance(name, str):
        raise SuspiciousFileOperation(f"Object name must be a str, got {type(name).__name__}.")
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise SuspiciousFileOperation(f"Object name {name!r} contains a NUL or control character.")
    posix = name.replace("\\", "/")
    if posix.startswith("/"):
        raise SuspiciousFileOperation(f"Object name {name!r} is absolute; give a relative name.")
    if ".." in posix.split("/"):
        raise SuspiciousFileOperation(f"Object name {name!r} contains a '..' segment.")
    keep_trailing_slash = posix.endswith("/")
    cleaned = posixpath.normpath(posix) if posix else ""
    if cleaned == ".":
        cleaned = ""
    if keep_trailing_slash and cleaned:
        cleaned += "/"
    if cleaned and not cleaned.strip():
        raise SuspiciousFileOperation(f"Object name {name!r} is blank; give a file name.")
    return cleaned


def object_key(location: str, name: str) -> str:
    """Join MINIO_LOCATION and a cleaned, non-empty name into the S3 key, checking its length."""
    cleaned = clean_name(name)
    if not cleaned:
        where = f"MINIO_LOCATION {location!r}" if location else "the bucket"
        raise SuspiciousFileOperation(
            f"Object name {name!r} is empty: it names {where} itself, not a file. Give a file name."
        )
    if is_reserved(cleaned):
        raise SuspiciousFileOperation(
            f"Object name {name!r} starts with {RESERVED_PREFIX!r}, which django-minio-backend keeps for "
            "its own objects. Rename the file."
        )
    return _checked_key(f"{location}/{cleaned}" if location else cleaned)


def _checked_key(key: str) -> str:
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise SuspiciousFileOperation(
            f"Object key {key[:64]!r}... is {len(key.encode('utf-8'))} bytes; S3 allows {MAX_KEY_BYTES}."
        )
    return key


def name_from_key(location: str, key: str) -> str:
    """The storage name for an S3 key under MINIO_LOCATION (the inverse of object_key).

    Raises SuspiciousFileOperation for a key outside the location: it has no name in this storage.
    """
    if not location:
        return key
    if not key.startswith(location + "/"):
        raise SuspiciousFileOperation(f"S3 key {key!r} is outside MINIO_LOCATION {location!r}.")
    return key[len(location) + 1 :]


def directory_prefix(location: str, path: str) -> str:
    """The listing prefix for a directory ``path`` ('' is the root), ending in '/' unless empty."""
    path = clean_name(path).rstrip("/")
    key = f"{location}/{path}" if location and path else (location or path)
    return _checked_key(f"{key}/") if key else ""
