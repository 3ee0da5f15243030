"""Form batteries for direct browser uploads: DirectUploadField, DirectUploadWidget, and the admin mixin.

The widget renders a file input the script (``django_minio_backend/direct-upload.js``) takes
over: it sends the file straight to the S3 server (one presigned PUT for a small file, parts in
parallel for a large one), shows progress, cancels and retries, and puts the signed value it gets
back into a hidden input. The field accepts only such a value, for this field, naming an object
that exists with that size; the form then stores the object's name. Mount the views with
``path("uploads/", include("django_minio_backend.urls"))``. See docs/direct-uploads.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import FileField
from django.db.models.fields.files import FieldFile
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from .uploads.spec import FieldSpec

SCRIPT = "django_minio_backend/direct-upload.js"
SINGLE_PUT_BELOW = 16 * 1024 * 1024  # smaller files go in one presigned PUT
PARALLEL_PARTS = 4


class DirectUploadWidget(forms.Widget):
    """A file input uploading straight to the bucket, with a progress bar, Cancel and Retry."""

    def __init__(
        self,
        attrs: dict[str, Any] | None = None,
        *,
        single_put_below: int = SINGLE_PUT_BELOW,
        parallel: int = PARALLEL_PARTS,
    ) -> None:
        super().__init__(attrs)
        if not 1 <= parallel <= 16:
            raise ValueError(f"parallel must be 1 to 16 parts at once, got {parallel!r}.")
        self.single_put_below = single_put_below
        self.parallel = parallel
        self.spec: FieldSpec | None = None  # set by DirectUploadField

    @property
    def media(self) -> forms.Media:
        return forms.Media(js=[SCRIPT])

    def use_required_attribute(self, initial: Any) -> bool:
        return False

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> str:
        if self.spec is None:
            raise ValueError("DirectUploadWidget renders in a DirectUploadField, which gives it its grant.")
        attrs = self.build_attrs(self.attrs, attrs)
        signed_value = value if isinstance(value, str) else ""
        current = ""
        if isinstance(value, FieldFile) and value:
            current = format_html('<span class="dmb-current">Currently: {}</span> ', value.name)
        accept = ",".join(self.spec.content_types)
        return format_html(
            '<div class="dmb-direct-upload" data-grant="{grant}" data-start="{start}" data-sign="{sign}" '
            'data-complete="{complete}" data-abort="{abort}" data-single-below="{single}" '
            'data-parallel="{parallel}" data-max-size="{max_size}">{current}'
            '<input type="hidden" name="{name}" value="{value}" class="dmb-value">'
            '<input type="file" id="{id}" class="dmb-file"{accept}> '
            '<progress class="dmb-progress" max="100" value="0" hidden></progress> '
            '<span class="dmb-status" role="status" aria-live="polite"></span> '
            '<button type="button" class="dmb-cancel" hidden>Cancel</button> '
            '<button type="button" class="dmb-retry" hidden>Retry</button></div>',
            grant=self.spec.grant_token(),
            start=reverse("django_minio_backend:direct-upload-start"),
            sign=reverse("django_minio_backend:direct-upload-sign"),
            complete=reverse("django_minio_backend:direct-upload-complete"),
            abort=reverse("django_minio_backend:direct-upload-abort"),
            single=self.single_put_below,
            parallel=self.parallel,
            max_size=self.spec.max_size,
            current=current,
            name=name,
            value=signed_value,
            id=attrs.get("id", f"id_{name}"),
            accept=format_html(' accept="{}"', accept) if accept else "",
        )


class DirectUploadField(forms.FileField):
    """A form field whose file goes from the browser to the bucket; cleans to the object's name.

    Bind it to a model field (``model_field=Model._meta.get_field("file")`` or
    ``"app_label.Model.field"``: its storage and upload_to decide the name), or to a storage alias
    with ``storage=``, ``upload_to=`` and a unique ``field_id=``. ``max_size`` (bytes) and
    ``content_types`` (``"image/*"``, ``"application/pdf"``) limit what may start;
    ``permission(request, grant) -> bool`` says who may upload (default: signed-in users).
    """

    widget = DirectUploadWidget
    default_error_messages = {
        "invalid": "The upload could not be accepted: %(reason)s",
        "required": "Choose a file and wait until it is uploaded.",
    }

    def __init__(
        self,
        *,
        model_field: str | FileField | None = None,
        storage: str = "",
        upload_to: str = "",
        field_id: str = "",
        max_size: int | None = None,
        content_types: tuple[str, ...] | list[str] = (),
        permission: str | Callable | None = None,
        default_permission: str = "django_minio_backend.uploads.permissions.authenticated",
        **kwargs: Any,
    ) -> None:
        kwargs.pop("allow_empty_file", None)
        super().__init__(**kwargs)
        self.spec = FieldSpec.build(
            model_field=model_field, storage=storage, upload_to=upload_to, field_id=field_id,
            max_size=max_size, content_types=content_types, permission=permission,
            default_permission=default_permission,
        )  # fmt: skip
        self.widget.spec = self.spec

    def clean(self, data: Any, initial: Any = None) -> Any:
        if self.disabled or not data:
            if self.required and not initial:
                raise ValidationError(self.error_messages["required"], code="required")
            return initial or None
        try:
            value = self.spec.verify(data)
        except ValueError as error:
            message = self.error_messages["invalid"]
            raise ValidationError(message, code="invalid", params={"reason": error}) from None
        return value.name

    def has_changed(self, initial: Any, data: Any) -> bool:
        return not self.disabled and bool(data)


def direct_upload_formfield(db_field: FileField, **options: Any) -> DirectUploadField:
    """A DirectUploadField for the model field ``db_field`` (label, help text and blank taken from it)."""
    return DirectUploadField(
        model_field=db_field,
        required=not db_field.blank,
        label=capfirst(db_field.verbose_name),
        help_text=db_field.help_text,
        **options,
    )


class DirectUploadAdminMixin:
    """Put before ``admin.ModelAdmin``: the model's FileFields (or those named in
    ``direct_upload_fields``) upload straight to the bucket, for staff users by default.
    ``direct_upload_options`` are passed to each DirectUploadField (max_size, content_types, ...)."""

    direct_upload_fields: tuple[str, ...] | None = None
    direct_upload_options: dict[str, Any] = {}

    def formfield_for_dbfield(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        chosen = self.direct_upload_fields is None or db_field.name in self.direct_upload_fields
        if isinstance(db_field, FileField) and chosen:
            options = {"default_permission": "django_minio_backend.uploads.permissions.staff"}
            return direct_upload_formfield(db_field, **{**options, **self.direct_upload_options})
        return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
