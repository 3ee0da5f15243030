"""One direct upload from start to finish: where it goes, the part URLs, completion, cancel.

The object name is chosen here, never taken from the browser as it is: the model field's
``upload_to`` (or the form field's) and the storage's ``generate_filename`` and
``get_available_name`` turn the browser's file name into a free name. Django sees only these
small JSON messages; the file's bytes go from the browser to the S3 server.
"""

from __future__ import annotations

import posixpath
import re
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.core.files.storage import Storage, storages
from django.db.models import FileField

from ..core import browser_multipart
from ..core.conditional import NameTaken
from ..errors import UploadVerificationError
from ..storage import naming
from .signed import Grant, Ticket, Value

PART_URL_EXPIRY = timedelta(hours=1)  # part URLs are signed in batches as the upload goes on
SINGLE_PUT_LIMIT = 5 * 1024**3  # S3's limit of one PUT
MAX_URLS_PER_CALL = 100
FIRST_URLS = 16
CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[\w.+-]+$")


class UploadRefused(ValueError):
    """The request asks for something the grant does not allow; the message says what."""


def model_field(label: str) -> FileField:
    """The FileField named ``"app_label.Model.field"``."""
    try:
        app_label, model_name, field_name = label.split(".")
        found = apps.get_model(app_label, model_name)._meta.get_field(field_name)
    except (ValueError, LookupError) as error:
        raise UploadRefused(f"{label!r} names no model field (use 'app_label.Model.field').") from error
    if not isinstance(found, FileField):
        raise UploadRefused(f"{label!r} is not a FileField.")
    return found


def target_storage(grant: Grant) -> Storage:
    storage = storages[grant.storage] if grant.storage else model_field(grant.field).storage
    if not hasattr(storage, "store"):
        raise UploadRefused(
            f"The storage of {grant.field!r} is {type(storage).__name__}, not a MinioBackend: direct "
            "uploads need a storage of this package."
        )
    return storage


def choose_name(grant: Grant, storage: Storage, filename: str) -> tuple[str, int | None]:
    """The object name to try first for the browser's ``filename``, by the field's rules, and the
    field's max_length."""
    base = posixpath.basename(str(filename).replace("\\", "/")).strip() or "upload"
    if grant.storage:
        name, max_length = storage.generate_filename(posixpath.join(grant.upload_to, base)), None
    else:
        field = model_field(grant.field)
        name, max_length = field.generate_filename(field.model(), base), field.max_length
    return naming.first_name(storage.get_alternative_name, name, max_length), max_length


def reserve_name(
    grant: Grant, storage: Storage, filename: str, *, multipart_upload: bool
) -> tuple[str, bool]:
    """A free name for the upload, held where the server allows (see browser_multipart.reserve):
    (name, claimed). Taken names are skipped by Django's rules (random suffixes)."""
    name, max_length = choose_name(grant, storage, filename)
    first, taken = name, set()
    for _ in range(naming.MAX_ATTEMPTS):
        try:
            return name, browser_multipart.reserve(
                storage.store, storage.store.key(name), multipart_upload=multipart_upload
            )
        except NameTaken:
            taken.add(name)
            name = naming.next_name(storage.get_alternative_name, taken, first, max_length)
    raise UploadRefused(f"No free name was found for {first!r} in {naming.MAX_ATTEMPTS} attempts.")


def content_type_allowed(content_type: str, patterns: tuple[str, ...]) -> bool:
    if not patterns:
        return True
    return any(
        content_type.startswith(pattern[:-1]) if pattern.endswith("/*") else content_type == pattern
        for pattern in patterns
    )


def check_request(grant: Grant, size: Any, content_type: Any) -> tuple[int, str]:
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise UploadRefused(f"size must be a whole number of bytes, got {size!r}.")
    if size > grant.max_size:
        raise UploadRefused(f"The file is {size} bytes; this field accepts at most {grant.max_size}.")
    content_type = str(content_type or "application/octet-stream").split(";")[0].strip().lower()
    if not CONTENT_TYPE.match(content_type):
        content_type = "application/octet-stream"
    if not content_type_allowed(content_type, grant.content_types):
        raise UploadRefused(
            f"Files of type {content_type!r} are not accepted here "
            f"(allowed: {', '.join(grant.content_types)})."
        )
    return size, content_type


def begin(grant: Grant, *, filename: str, size: Any, content_type: Any, mode: str, owner: str) -> dict:
    """Start an upload; the ticket and what the browser needs to send the bytes."""
    size, content_type = check_request(grant, size, content_type)
    storage = target_storage(grant)
    store = storage.store
    if store.customer_key is not None:
        raise UploadRefused("Direct uploads cannot use SSE-C: the browser would need the key.")
    single = mode == "single" and size <= SINGLE_PUT_LIMIT
    name, claimed = reserve_name(grant, storage, filename, multipart_upload=not single)
    key = store.key(name)
    if single:
        ticket = Ticket(grant.field, name, size, content_type, "single", owner=owner)
        headers = {"Content-Type": content_type}
        if store.conditional_puts(name):
            headers["If-None-Match"] = "*"
        url = store.presigned_put(key, expires=PART_URL_EXPIRY)
        return {"ticket": ticket, "mode": "single", "url": url, "headers": headers}
    part_size = browser_multipart.part_size_for(size)
    try:
        upload_id = browser_multipart.start(store, key, content_type)
    except BaseException:
        if claimed:
            browser_multipart.release(store, key)
        raise
    ticket = Ticket(
        grant.field, name, size, content_type, "multipart", upload_id, part_size, owner=owner, claimed=claimed
    )
    count = browser_multipart.part_count(size, part_size)
    urls = part_urls(grant, ticket, list(range(1, min(count, FIRST_URLS) + 1)))
    return {"ticket": ticket, "mode": "multipart", "part_size": part_size, "parts": count, "urls": urls}


def part_urls(grant: Grant, ticket: Ticket, numbers: Any) -> dict[str, str]:
    """Presigned UploadPart URLs for ``numbers`` (signed locally, no request)."""
    count = browser_multipart.part_count(ticket.size, ticket.part_size or 1)
    if ticket.mode != "multipart" or not isinstance(numbers, list) or len(numbers) > MAX_URLS_PER_CALL:
        raise UploadRefused(f"Ask for 1 to {MAX_URLS_PER_CALL} part numbers of a multipart upload.")
    if not all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= count for n in numbers):
        raise UploadRefused(f"Part numbers must lie in 1..{count}.")
    store = target_storage(grant).store
    key = store.key(ticket.name)
    return {
        str(n): browser_multipart.part_url(store, key, ticket.upload_id, n, expires=PART_URL_EXPIRY)
        for n in numbers
    }


def finish(grant: Grant, ticket: Ticket) -> Value:
    """Complete the upload (multipart: conditional, parts checked) and check the object's size."""
    storage = target_storage(grant)
    store = storage.store
    key = store.key(ticket.name)
    if ticket.mode == "multipart":
        try:
            browser_multipart.complete(
                store,
                key,
                ticket.upload_id,
                size=ticket.size,
                part_size=ticket.part_size,
                claimed=ticket.claimed,
            )
        except NameTaken as error:
            browser_multipart.abort(store, key, ticket.upload_id)
            message = f"{ticket.name!r} was taken by another upload meanwhile; upload again."
            raise UploadRefused(message) from error
    try:
        stat = storage.verify_upload(ticket.name, expected_size=ticket.size)
    except UploadVerificationError:
        if ticket.mode == "single":
            storage.delete(ticket.name)
        raise
    if ticket.mode == "single" and (stat.content_type or "") != ticket.content_type:
        storage.delete(ticket.name)
        raise UploadVerificationError(
            f"{ticket.name!r} was uploaded as {stat.content_type!r}, not the {ticket.content_type!r} granted."
        )
    return Value(grant.field, ticket.name, ticket.size, ticket.content_type)


def cancel(grant: Grant, ticket: Ticket) -> None:
    """Abort a multipart upload (its parts are freed); remove a single PUT's object if it arrived."""
    storage = target_storage(grant)
    if ticket.mode == "multipart":
        key = storage.store.key(ticket.name)
        browser_multipart.abort(storage.store, key, ticket.upload_id, claimed=ticket.claimed)
    elif storage.exists(ticket.name):
        storage.delete(ticket.name)
