"""The three signed values of a direct upload, each with its own salt so none passes for another.

- the *grant*, rendered into the page by the widget: which field, its limits, who may upload;
- the *ticket*, returned when an upload starts: the object name the server chose, the upload id,
  the size and type declared, the part size;
- the *value*, returned when the upload is complete and posted back with the form: the object's
  name, size and content type and the field it was granted for.

All are made with ``django.core.signing`` (HMAC with SECRET_KEY and a timestamp), so the browser
can read them but not change them, and each expires.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from django.core import signing

GRANT_SALT = "django_minio_backend.uploads.grant"
TICKET_SALT = "django_minio_backend.uploads.ticket"
VALUE_SALT = "django_minio_backend.uploads.value"
GRANT_MAX_AGE = timedelta(hours=12)  # how long a rendered form may wait before its upload starts
TICKET_MAX_AGE = timedelta(hours=24)  # how long an upload may take
VALUE_MAX_AGE = timedelta(hours=6)  # how long an uploaded file waits for its form to be saved


class SignedValueError(ValueError):
    """A signed value that is forged, expired or of another kind."""


@dataclass(frozen=True)
class Grant:
    field: str  # "app_label.Model.field", or the field_id of a form field on a storage
    max_size: int
    content_types: tuple[str, ...] = ()  # ("image/*", "application/pdf"); empty: any
    permission: str = "django_minio_backend.uploads.permissions.authenticated"
    storage: str = ""  # a STORAGES alias, for a form field not bound to a model field
    upload_to: str = ""


@dataclass(frozen=True)
class Ticket:
    field: str
    name: str
    size: int
    content_type: str
    mode: str  # "multipart" or "single"
    upload_id: str = ""
    part_size: int = 0
    owner: str = ""  # the user it was started for ("" for anonymous uploads)
    claimed: bool = False  # the name is held by a claim object until completion


@dataclass(frozen=True)
class Value:
    field: str
    name: str
    size: int
    content_type: str
    extra: dict[str, Any] = field(default_factory=dict)


def dump(item: Grant | Ticket | Value) -> str:
    return signing.dumps(asdict(item), salt=_SALTS[type(item)], compress=True)


def _load(kind: type, text: str, max_age: timedelta) -> Any:
    if not isinstance(text, str) or not text:
        raise SignedValueError(f"No signed {kind.__name__.lower()} was given.")
    try:
        data = signing.loads(text, salt=_SALTS[kind], max_age=max_age)
    except signing.SignatureExpired as error:
        raise SignedValueError(f"The signed {kind.__name__.lower()} has expired.") from error
    except signing.BadSignature as error:
        raise SignedValueError(f"The signed {kind.__name__.lower()} is not valid.") from error
    try:
        if kind is Grant:
            data["content_types"] = tuple(data["content_types"])
        return kind(**data)
    except (TypeError, KeyError) as error:
        raise SignedValueError(f"The signed {kind.__name__.lower()} is not valid.") from error


def load_grant(text: str) -> Grant:
    return _load(Grant, text, GRANT_MAX_AGE)


def load_ticket(text: str) -> Ticket:
    return _load(Ticket, text, TICKET_MAX_AGE)


def load_value(text: str, *, max_age: timedelta = VALUE_MAX_AGE) -> Value:
    return _load(Value, text, max_age)


_SALTS: dict[type, str] = {Grant: GRANT_SALT, Ticket: TICKET_SALT, Value: VALUE_SALT}
