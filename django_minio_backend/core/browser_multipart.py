"""Multipart uploads a browser sends: started and completed here, every part URL signed locally.

The browser PUTs each part straight to the external endpoint with a presigned UploadPart URL:
minio's public ``get_presigned_url`` with ``uploadId`` and ``partNumber`` as query parameters, so
signing a part makes no request. On completion the parts are not taken from the browser:
ListParts says what the server holds (one request per 1,000 parts) and their sizes are checked
against the size granted before CompleteMultipartUpload, so an object of another size is never
assembled. ListParts is our own request, parsed here, because minio-py's ``_list_parts`` is private.
"""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from datetime import timedelta

from ..errors import UploadVerificationError
from . import capabilities, multipart, request
from .conditional import NameTaken, claim, is_claim, release_claim
from .store import ObjectStore

MiB = 1024 * 1024
MAX_PARTS = 10_000  # S3's limit of parts per upload
MAX_OBJECT_SIZE = 5 * 1024**4  # S3's limit of an object's size (5 TiB)
MIN_PART_SIZE = 8 * MiB
PAGE = 1000  # parts per ListParts answer
MAX_PAGES = MAX_PARTS // PAGE + 1


def part_size_for(size: int, minimum: int = MIN_PART_SIZE) -> int:
    """The part size for an object of ``size`` bytes: ``minimum``, or larger (whole MiB) so that
    the object needs at most 10,000 parts."""
    if not 0 <= size <= MAX_OBJECT_SIZE:
        raise ValueError(f"A direct upload must be 0 to 5 TiB, got {size} bytes.")
    needed = math.ceil(math.ceil(size / MAX_PARTS) / MiB) * MiB
    return max(minimum, needed)


def part_count(size: int, part_size: int) -> int:
    return max(1, math.ceil(size / part_size))


def start(store: ObjectStore, key: str, content_type: str) -> str:
    """CreateMultipartUpload of the raw ``key``; the upload id."""
    with store.errors("start the direct upload of", key):
        return multipart.create(store.connection, store.bucket, key, {"Content-Type": content_type})


def part_url(store: ObjectStore, key: str, upload_id: str, number: int, *, expires: timedelta) -> str:
    """The presigned UploadPart URL of part ``number`` (no request)."""
    return store.client_external.get_presigned_url(
        method="PUT",
        bucket_name=store.bucket,
        object_name=key,
        expires=expires,
        extra_query_params={"partNumber": str(number), "uploadId": upload_id},
    )


def list_parts(store: ObjectStore, key: str, upload_id: str) -> list[tuple[int, str, int]]:
    """(number, ETag, size) of every part the server holds for the upload, in order."""
    parts: list[tuple[int, str, int]] = []
    marker = "0"
    with store.errors("list the parts of the direct upload of", key):
        for _ in range(MAX_PAGES):
            query = {"uploadId": upload_id, "max-parts": str(PAGE), "part-number-marker": marker}
            response = request.empty(store.connection, "GET", store.bucket, key, headers={}, query=query)
            request.check(response, store.bucket, key)
            root = ET.fromstring(response.data)
            for part in root.findall("{*}Part"):
                etag = (part.findtext("{*}ETag") or "").strip('"').lower()
                number = int(part.findtext("{*}PartNumber") or 0)
                parts.append((number, etag, int(part.findtext("{*}Size") or 0)))
            if (root.findtext("{*}IsTruncated") or "").lower() != "true":
                return parts
            marker = root.findtext("{*}NextPartNumberMarker") or str(parts[-1][0])
    raise UploadVerificationError(f"The direct upload of {key!r} lists more than {MAX_PARTS} parts.")


def check_parts(key: str, parts: list[tuple[int, str, int]], size: int, part_size: int) -> None:
    """Raise UploadVerificationError unless ``parts`` are 1..n of the granted sizes, ``size`` in all."""
    count = part_count(size, part_size)
    numbers = [number for number, _, _ in parts]
    if numbers != list(range(1, count + 1)):
        missing = sorted(set(range(1, count + 1)) - set(numbers))
        raise UploadVerificationError(
            f"The direct upload of {key!r} needs parts 1 to {count}; missing {missing[:5]}, "
            f"extra {sorted(set(numbers) - set(range(1, count + 1)))[:5]}. Send the missing parts."
        )
    expected = [part_size] * (count - 1) + [size - part_size * (count - 1)]
    wrong = [number for (number, _, got), want in zip(parts, expected, strict=True) if got != want]
    if wrong:
        raise UploadVerificationError(
            f"The direct upload of {key!r} has parts of the wrong size ({wrong[:5]}): the file is not the "
            f"{size} bytes granted. Nothing was stored."
        )


def reserve(store: ObjectStore, key: str, *, multipart_upload: bool) -> bool:
    """Make sure ``key`` is free before an upload to it starts; NameTaken when it is not.

    A multipart upload on a server that ignores If-None-Match on CompleteMultipartUpload but
    honours it on PUT (Ceph RGW) claims the key with a small claim object (conditional.py), as the
    storage's own large saves do; True then. Elsewhere one HEAD checks the key, and where the
    completion is conditional, one listing checks that no other upload to the key is under way.
    """
    conditional_complete = multipart_upload and store.honours_if_none_match(
        capabilities.COMPLETE, for_name=key
    )
    if multipart_upload and not conditional_complete and store.conditional_puts(key):
        with store.errors("claim the name of the direct upload", key):
            claim(store.connection, store.bucket, key)
        return True
    if key_exists(store, key) or (conditional_complete and upload_in_progress(store, key)):
        raise NameTaken(key)
    return False


def upload_in_progress(store: ObjectStore, key: str) -> bool:
    """Whether another multipart upload to ``key`` is under way (its conditional Complete would
    make one of the two fail), from the first 1,000 uploads listed under the key."""
    pending = itertools.islice(store.pending_uploads(key), PAGE)
    return any(pending_key == key for pending_key, _, _ in pending)


def complete(
    store: ObjectStore, key: str, upload_id: str, *, size: int, part_size: int, claimed: bool = False
) -> None:
    """Check the parts the server holds and complete the upload without overwriting ``key``.

    Where the server honours If-None-Match on CompleteMultipartUpload the completion is conditional;
    a claimed key must still hold our claim; elsewhere the key is checked (one HEAD) just before.
    NameTaken when the key holds another object.
    """
    parts = list_parts(store, key, upload_id)
    check_parts(key, parts, size, part_size)
    conditional = store.honours_if_none_match(capabilities.COMPLETE, for_name=key)
    with store.errors("complete the direct upload of", key):
        if claimed and not is_claim(store.connection, store.bucket, key):
            raise NameTaken(key)
        if not conditional and not claimed and key_exists(store, key):
            raise NameTaken(key)
        multipart.complete(
            store.connection, store.bucket, key, upload_id, [etag for _, etag, _ in parts], new=conditional
        )


def key_exists(store: ObjectStore, key: str) -> bool:
    try:
        store.stat_key(key)
    except FileNotFoundError:
        return False
    return True


def abort(store: ObjectStore, key: str, upload_id: str, *, claimed: bool = False) -> None:
    """Abort the upload: its parts are freed (a 404, already gone, is success), its claim deleted."""
    store.abort_upload(key, upload_id)
    if claimed:
        release_claim(store.connection, store.bucket, key)


def release(store: ObjectStore, key: str) -> None:
    """Delete our claim on ``key`` (only if it still is a claim)."""
    release_claim(store.connection, store.bucket, key)
