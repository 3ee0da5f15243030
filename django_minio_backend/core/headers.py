"""Object headers as S3 stores them: which names are headers and which user metadata, and
how values that are not plain ASCII are sent.

Headers are classified the same way on every write path: the standard object headers S3 stores
(Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires) and ``x-amz-*``
headers are sent as they are; any other name becomes user metadata (``x-amz-meta-<name>``).
"""

from __future__ import annotations

import base64
import email.header
import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..conf.options import StorageOptions

STANDARD_HEADERS = frozenset(
    {"cache-control", "content-disposition", "content-encoding", "content-language", "expires"}
)
META_PREFIX = "x-amz-meta-"


def _value(value: Any, name: str) -> str:
    return value(name) if callable(value) else value


def object_headers(
    options: StorageOptions,
    upload_kwargs: Mapping[str, Any],
    name: str,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Headers and user metadata for ``name``: options, then constructor arguments, then ``extra``."""
    wanted: dict[str, str] = {}
    for header, value in (
        ("Cache-Control", options.cache_control),
        ("Content-Disposition", options.content_disposition),
        ("Content-Language", options.content_language),
    ):
        if value:
            wanted[header] = _value(value, name)
    if options.storage_class:
        wanted["x-amz-storage-class"] = options.storage_class
    for meta_key, value in options.metadata.items():
        wanted[META_PREFIX + meta_key] = _value(value, name)
    for meta_key, value in (
        upload_kwargs.get("metadata") or upload_kwargs.get("user_metadata") or {}
    ).items():
        wanted[meta_key if meta_key.lower().startswith("x-amz-") else META_PREFIX + meta_key] = value
    wanted.update(upload_kwargs.get("headers") or {})
    wanted.update(extra or {})
    return classify_headers(wanted)


def classify_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    """Standard object headers and x-amz-* as they are; every other name as x-amz-meta-<name>."""
    classified: dict[str, str] = {}
    for key, value in headers.items():
        lower = str(key).lower()
        if lower in STANDARD_HEADERS or lower.startswith("x-amz-"):
            out = lower if lower.startswith(META_PREFIX) else str(key)
        elif lower == "content-type":
            continue  # the plan's content type decides
        else:
            out = META_PREFIX + lower
        classified = {k: v for k, v in classified.items() if k.lower() != out.lower()}
        classified[out] = header_value(out, str(value))
    return classified


def header_value(header: str, value: str) -> str:
    """``value`` as S3 accepts it in the header ``header``, or ValueError naming the header.

    HTTP header values are ASCII. A non-ASCII Content-Disposition filename is sent the RFC 6266 /
    RFC 5987 way (an ASCII ``filename=`` plus ``filename*=UTF-8''...``), and a non-ASCII user
    metadata value as an RFC 2047 encoded-word (``=?UTF-8?B?...?=``), which is how S3 itself
    returns such values; ObjectStore.stat() decodes them again. Anything else is refused before
    any request is made.
    """
    if not header.isascii() or not _TOKEN.fullmatch(header):
        raise ValueError(f"Header name {header!r} is not a valid ASCII HTTP header name; rename it.")
    if "\r" in value or "\n" in value or "\x00" in value:
        raise ValueError(f"Header {header} has a line break or NUL in its value {value!r}; remove it.")
    if value.isascii():
        return value
    lower = header.lower()
    if lower.startswith(META_PREFIX):
        return encode_word(value)
    if lower == "content-disposition":
        return _content_disposition(value)
    raise ValueError(
        f"Header {header} has a non-ASCII value {value!r}; S3 accepts only ASCII there. "
        "Use ASCII, or put the text in user metadata (MINIO_METADATA), which is encoded for you."
    )


_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_FILENAME = re.compile(r'filename\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)', re.IGNORECASE)
_ENCODED_WORD = re.compile(r"=\?utf-8\?[bq]\?[^?]*\?=", re.IGNORECASE)


def encode_word(value: str) -> str:
    """An RFC 2047 encoded-word of ``value`` (UTF-8, base64)."""
    return "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8")).decode("ascii") + "?="


def decode_words(value: str) -> str:
    """The text of a value made of RFC 2047 encoded-words; any other value as it is."""
    if not _ENCODED_WORD.search(value):
        return value
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (ValueError, LookupError, UnicodeDecodeError):
        return value


def _content_disposition(value: str) -> str:
    match = _FILENAME.search(value)
    outside = value[: match.start()] + value[match.end() :] if match else value
    if match is None or not outside.isascii():
        raise ValueError(
            f"Header Content-Disposition has non-ASCII text outside its filename in {value!r}; "
            "only the filename may be non-ASCII (it is sent as filename*=UTF-8''...)."
        )
    filename = match.group(1).strip()
    if filename.startswith('"') and filename.endswith('"') and len(filename) >= 2:
        filename = re.sub(r"\\(.)", r"\1", filename[1:-1])
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r'["\\]', "_", ascii_name).strip() or "download"
    encoded = quote(filename, safe="")
    return (
        f"{value[: match.start()]}filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}{value[match.end() :]}"
    )
