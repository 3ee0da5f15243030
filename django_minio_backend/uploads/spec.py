"""What a direct-upload field is granted, and the check of the value posted back (shared by the
form field and the DRF serializer field)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import FileField
from django.utils.module_loading import import_string

from ..core.browser_multipart import MAX_OBJECT_SIZE
from ..errors import UploadVerificationError
from . import sessions, signed

DEFAULT_PERMISSION = "django_minio_backend.uploads.permissions.authenticated"


def dotted_path(hook: str | Callable | None, default: str = DEFAULT_PERMISSION) -> str:
    """The importable path of a permission hook (a module-level function or its dotted path)."""
    if hook is None:
        return default
    if isinstance(hook, str):
        return hook
    path = f"{hook.__module__}.{hook.__qualname__}"
    try:
        found = import_string(path)
    except ImportError:
        found = None
    if found is not hook:
        raise ValueError(f"permission={hook!r} must be a module-level function (or its dotted path).")
    return path


def field_label(model_field: str | FileField) -> str:
    if isinstance(model_field, str):
        return model_field
    meta = model_field.model._meta
    return f"{meta.app_label}.{meta.object_name}.{model_field.name}"


@dataclass(frozen=True)
class FieldSpec:
    """One field's upload rules: bound to a model field, or to a storage alias and upload_to."""

    field_id: str
    max_size: int = MAX_OBJECT_SIZE
    content_types: tuple[str, ...] = ()
    permission: str = DEFAULT_PERMISSION
    storage: str = ""
    upload_to: str = ""

    @classmethod
    def build(
        cls,
        *,
        model_field: str | FileField | None = None,
        storage: str = "",
        upload_to: str = "",
        field_id: str = "",
        max_size: int | None = None,
        content_types: tuple[str, ...] | list[str] = (),
        permission: str | Callable | None = None,
        default_permission: str = DEFAULT_PERMISSION,
    ) -> FieldSpec:
        if (model_field is None) == (not storage):
            raise ValueError("Give a direct-upload field either model_field= or storage= (a STORAGES alias).")
        if storage and not field_id:
            raise ValueError("A direct-upload field on storage= needs a field_id= naming it uniquely.")
        if max_size is not None and (isinstance(max_size, bool) or not 0 < max_size <= MAX_OBJECT_SIZE):
            raise ValueError(f"max_size must be 1 byte to 5 TiB, got {max_size!r}.")
        return cls(
            field_id=field_label(model_field) if model_field is not None else field_id,
            max_size=max_size or MAX_OBJECT_SIZE,
            content_types=tuple(content_types),
            permission=dotted_path(permission, default_permission),
            storage=storage,
            upload_to=upload_to,
        )

    def grant(self) -> signed.Grant:
        return signed.Grant(
            self.field_id, self.max_size, self.content_types, self.permission, self.storage, self.upload_to
        )

    def grant_token(self) -> str:
        """The signed grant a page hands to the script (no request)."""
        return signed.dump(self.grant())

    def verify(self, text: Any) -> signed.Value:
        """The value posted back, checked: signed by us, for this field, not expired, and naming an
        object that exists with that size (one HEAD). Raises ValueError with the reason."""
        value = signed.load_value(text)
        if value.field != self.field_id:
            raise signed.SignedValueError("This upload was granted for another field.")
        storage = sessions.target_storage(self.grant())
        try:
            storage.verify_upload(value.name, expected_size=value.size)
        except FileNotFoundError as error:
            message = "The uploaded file is not in the storage; upload it again."
            raise signed.SignedValueError(message) from error
        except UploadVerificationError as error:
            raise signed.SignedValueError(str(error)) from error
        return value
