"""Part sizes of browser multipart uploads, and the signed values, without a server."""

from __future__ import annotations

import pytest

from django_minio_backend.core.browser_multipart import (
    MAX_OBJECT_SIZE,
    MAX_PARTS,
    MIN_PART_SIZE,
    check_parts,
    part_count,
    part_size_for,
)
from django_minio_backend.errors import UploadVerificationError
from django_minio_backend.uploads import signed
from django_minio_backend.uploads.spec import FieldSpec

GiB = 1024**3


@pytest.mark.parametrize(
    "size", [0, 1, MIN_PART_SIZE, 200 * 1024**2, 80 * GiB, 81 * GiB, 1024 * GiB, MAX_OBJECT_SIZE]
)
def test_every_size_up_to_5_tib_fits_in_10000_parts_of_at_most_5_gib(size):
    part_size = part_size_for(size)
    assert MIN_PART_SIZE <= part_size <= 5 * GiB
    assert part_count(size, part_size) <= MAX_PARTS
    assert part_size % (1024 * 1024) == 0


def test_larger_than_5_tib_is_refused():
    with pytest.raises(ValueError, match="5 TiB"):
        part_size_for(MAX_OBJECT_SIZE + 1)


def test_parts_must_be_complete_and_of_the_granted_sizes():
    part = MIN_PART_SIZE
    check_parts("k", [(1, "a", part), (2, "b", 5)], part + 5, part)
    with pytest.raises(UploadVerificationError, match="missing"):
        check_parts("k", [(1, "a", part)], part + 5, part)
    with pytest.raises(UploadVerificationError, match="wrong size"):
        check_parts("k", [(1, "a", part), (2, "b", 6)], part + 5, part)


def test_the_three_signed_kinds_never_pass_for_each_other():
    grant = FieldSpec.build(storage="default", upload_to="u/", field_id="f").grant()
    ticket = signed.Ticket("f", "u/a", 1, "text/plain", "single")
    value = signed.Value("f", "u/a", 1, "text/plain")
    assert signed.load_grant(signed.dump(grant)) == grant
    assert signed.load_ticket(signed.dump(ticket)) == ticket
    assert signed.load_value(signed.dump(value)) == value
    for load, other in ((signed.load_value, ticket), (signed.load_ticket, grant), (signed.load_grant, value)):
        with pytest.raises(signed.SignedValueError, match="not valid"):
            load(signed.dump(other))


def test_a_field_needs_one_target_and_an_importable_permission():
    with pytest.raises(ValueError, match="either"):
        FieldSpec.build(field_id="x")
    with pytest.raises(ValueError, match="field_id"):
        FieldSpec.build(storage="default")
    with pytest.raises(ValueError, match="module-level"):
        FieldSpec.build(storage="default", field_id="x", permission=lambda request, grant: True)


def test_the_widget_renders_the_grant_the_endpoints_and_the_script(settings):
    from django import forms

    from django_minio_backend.forms import DirectUploadField

    settings.ROOT_URLCONF = "tests.support.direct_uploads"

    class UploadForm(forms.Form):
        file = DirectUploadField(
            storage="default", upload_to="u/", field_id="unit.file", content_types=["image/*"]
        )

    form = UploadForm()
    html = str(form["file"])
    grant = signed.load_grant(html.split('data-grant="', 1)[1].split('"', 1)[0])
    assert grant.field == "unit.file" and grant.content_types == ("image/*",)
    assert 'data-start="/uploads/direct/start/"' in html and 'accept="image/*"' in html
    assert '<input type="hidden" name="file" value=""' in html
    assert "django_minio_backend/direct-upload.js" in str(form.media)
    assert not UploadForm({"file": "u/typed-by-a-user.bin"}).is_valid()
