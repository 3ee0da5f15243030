"""An optional Django REST Framework field for direct uploads (needs djangorestframework).

``DirectUploadSerializerField(model_field=...)`` accepts the signed value the upload endpoints
return (the same checks as the form field) and gives the object's name to the serializer;
``grant_token()`` is the grant an API hands to its client before the upload starts.
"""

from __future__ import annotations

from typing import Any

try:
    from rest_framework import serializers
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "django_minio_backend.drf needs Django REST Framework: pip install djangorestframework"
    ) from error

from .uploads.spec import FieldSpec


class DirectUploadSerializerField(serializers.Field):
    """Writes the name of a direct-uploaded object; reads back the file's URL."""

    default_error_messages = {"invalid": "The upload could not be accepted: {reason}"}

    def __init__(self, *, spec_options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        spec_options = dict(spec_options or {})
        self.spec = FieldSpec.build(**spec_options)
        super().__init__(**kwargs)

    def grant_token(self) -> str:
        return self.spec.grant_token()

    def to_internal_value(self, data: Any) -> str:
        try:
            return self.spec.verify(data).name
        except ValueError as error:
            self.fail("invalid", reason=error)

    def to_representation(self, value: Any) -> Any:
        if not value:
            return None
        return value.url if hasattr(value, "url") else str(value)
