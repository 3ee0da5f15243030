"""Direct upload batteries against the real server: the views, the signed value, the form field.

The parts are sent with urllib3 as a browser would (tests/support/direct_uploads.py); the browser
itself drives them in tests/system/test_direct_upload_browser.py.
"""

from __future__ import annotations

import os
import time

import pytest
from django import forms
from django.core import signing

from django_minio_backend.forms import DirectUploadField
from django_minio_backend.models import MinioBackend
from django_minio_backend.uploads import signed
from django_minio_backend.uploads.spec import FieldSpec

from tests.support import PRIVATE, pending_uploads
from tests.support.direct_uploads import BROWSER, anonymous, call, finish, upload
from tests.testapp.models import PrivateAttachment

MiB = 1024 * 1024


@pytest.fixture
def spec(minio_settings, name) -> FieldSpec:
    return FieldSpec.build(
        storage="default", upload_to=f"{name}/up/", field_id=f"{name}.file", max_size=64 * MiB
    )


@pytest.fixture
def private(minio_settings) -> MinioBackend:
    return MinioBackend(bucket_name=PRIVATE, storage_name="default")


def form_for(spec: FieldSpec) -> type[forms.Form]:
    class UploadForm(forms.Form):
        file = DirectUploadField(storage=spec.storage, upload_to=spec.upload_to, field_id=spec.field_id,
                                 max_size=spec.max_size)  # fmt: skip

    return UploadForm


def test_a_multipart_upload_is_completed_checked_and_accepted_by_the_form(spec, private, name, s3_server):
    data = os.urandom(2 * 8 * MiB + 12345)
    grant = spec.grant_token()
    started = upload(grant, data, filename="../../etc/big file.bin")
    assert started["mode"] == "multipart" and started["parts"] == 3 and started["part_size"] == 8 * MiB
    status, done = finish(grant, started["ticket"])
    assert status == 200, done
    assert done["name"].startswith(f"{name}/up/") and ".." not in done["name"]
    assert private.open(done["name"]).read() == data
    assert pending_uploads(s3_server, f"{name}/") == []
    form = form_for(spec)({"file": done["value"]})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["file"] == done["name"]


def test_a_small_file_goes_in_one_put(spec, private):
    grant = spec.grant_token()
    started = upload(
        grant, b"small and direct", filename="note.txt", content_type="text/plain", mode="single"
    )
    assert started["mode"] == "single"
    status, done = finish(grant, started["ticket"])
    assert status == 200, done
    assert private.open(done["name"]).read() == b"small and direct"
    assert private.stat(done["name"]).content_type == "text/plain"


def test_a_model_form_saves_the_row_through_the_model_field(private, name, monkeypatch, db):
    field = PrivateAttachment._meta.get_field("file")
    monkeypatch.setattr(field, "storage", private)
    monkeypatch.setattr(field, "upload_to", f"{name}/rows/")

    class AttachmentForm(forms.ModelForm):
        file = DirectUploadField(model_field="testapp.PrivateAttachment.file")

        class Meta:
            model = PrivateAttachment
            fields = ["file"]

    grant = AttachmentForm().fields["file"].spec.grant_token()
    data = os.urandom(9 * MiB)
    started = upload(grant, data, filename="row.bin")
    status, done = finish(grant, started["ticket"])
    assert status == 200, done
    form = AttachmentForm({"file": done["value"]})
    assert form.is_valid(), form.errors
    row = form.save()
    row.refresh_from_db()
    assert row.file.name == done["name"] and row.file.name.startswith(f"{name}/rows/")
    assert row.file.size == len(data)
    response = BROWSER.request("GET", row.file.url)
    assert response.status == 200 and response.data == data


def test_forged_expired_other_field_and_never_uploaded_values_are_refused(spec, private, name, monkeypatch):
    grant = spec.grant_token()
    started = upload(grant, b"genuine", mode="single")
    status, done = finish(grant, started["ticket"])
    assert status == 200
    UploadForm = form_for(spec)

    def errors(value: str) -> str:
        form = UploadForm({"file": value})
        assert not form.is_valid()
        return " ".join(form.errors["file"])

    body, _, signature = done["value"].rpartition(":")
    assert "not valid" in errors(f"{body}:{signature[::-1]}")  # forged
    assert "not valid" in errors(f"{done['name']}")  # a name typed by a user
    assert "not valid" in errors(started["ticket"])  # a ticket is not a value
    other = FieldSpec.build(storage="default", upload_to=f"{name}/other/", field_id=f"{name}.other")
    assert "another field" in "".join(form_for(other)({"file": done["value"]}).errors["file"])
    never = signed.dump(signed.Value(spec.field_id, f"{name}/up/never.bin", 7, "text/plain"))
    assert "not in the storage" in errors(never)
    wrong_size = signed.dump(signed.Value(spec.field_id, done["name"], 8, "application/octet-stream"))
    assert "bytes" in errors(wrong_size)
    past = time.time() - 7 * 3600
    with monkeypatch.context() as patched:
        patched.setattr(signing.time, "time", lambda: past)
        expired = signed.dump(signed.Value(spec.field_id, done["name"], 7, "application/octet-stream"))
    assert "expired" in errors(expired)
    assert UploadForm({"file": done["value"]}).is_valid()


def test_cancel_aborts_the_upload_and_leaves_nothing(spec, private, name, s3_server):
    grant = spec.grant_token()
    started = upload(grant, os.urandom(3 * 8 * MiB), skip_parts=(2, 3))
    status, _ = call("abort", {"grant": grant, "ticket": started["ticket"]})
    assert status == 200
    assert pending_uploads(s3_server, f"{name}/") == []
    assert list(private.listdir(f"{name}/up")[1]) == []
    status, answer = finish(grant, started["ticket"])
    assert status >= 400, answer  # nothing left to complete


def test_missing_or_wrong_sized_parts_are_never_completed(spec, private, name, s3_server):
    grant = spec.grant_token()
    started = upload(grant, os.urandom(2 * 8 * MiB + 1), skip_parts=(2,))
    status, answer = finish(grant, started["ticket"])
    assert status == 400 and "missing [2]" in answer["error"]
    assert not private.listdir(f"{name}/up")[1]
    status, _ = call("abort", {"grant": grant, "ticket": started["ticket"]})
    assert status == 200 and pending_uploads(s3_server, f"{name}/") == []


def test_the_views_enforce_the_grant_the_user_and_csrf(spec, name):
    grant = spec.grant_token()
    start = {"grant": grant, "filename": "a.bin", "size": 10, "content_type": "text/plain", "mode": "single"}
    assert call("start", {**start, "size": 65 * MiB})[0] == 400  # over max_size
    assert call("start", start, user=anonymous())[0] == 403  # the default hook wants a signed-in user
    assert call("start", start, csrf_checks=True)[0] == 403  # no CSRF token
    assert call("start", {**start, "grant": grant[:-2] + "xx"})[0] == 400  # forged grant
    typed = FieldSpec.build(storage="default", upload_to=f"{name}/img/", field_id=f"{name}.img",
                            content_types=["image/*"]).grant_token()  # fmt: skip
    assert call("start", {**start, "grant": typed})[0] == 400
    assert call("start", {**start, "grant": typed, "content_type": "image/png"})[0] == 200
    started = upload(grant, os.urandom(9 * MiB))
    from tests.support.direct_uploads import User

    assert finish(grant, started["ticket"], user=User(pk=2))[0] == 403  # someone else's upload
    other_grant = FieldSpec.build(
        storage="default", upload_to=f"{name}/x/", field_id=f"{name}.x"
    ).grant_token()
    assert finish(other_grant, started["ticket"])[0] == 403  # another field's grant
    status, sign = call("sign", {"grant": grant, "ticket": started["ticket"], "parts": [0, 3]})
    assert status == 400, sign
    assert call("abort", {"grant": grant, "ticket": started["ticket"]})[0] == 200


def test_the_drf_field_accepts_only_a_value_for_its_field(spec, private):
    pytest.importorskip("rest_framework")
    from rest_framework import serializers

    from django_minio_backend.drf import DirectUploadSerializerField

    options = {"storage": spec.storage, "upload_to": spec.upload_to, "field_id": spec.field_id}

    class Serializer(serializers.Serializer):
        file = DirectUploadSerializerField(spec_options=options)

    grant = Serializer().fields["file"].grant_token()
    started = upload(grant, b"through the api", mode="single")
    _, done = finish(grant, started["ticket"])
    ok = Serializer(data={"file": done["value"]})
    assert ok.is_valid(), ok.errors
    assert ok.validated_data["file"] == done["name"]
    forged = Serializer(data={"file": done["name"]})
    assert not forged.is_valid() and "not valid" in str(forged.errors["file"])


def test_two_uploads_of_one_file_name_never_overwrite_each_other(spec, private):
    grant = spec.grant_token()
    first = upload(grant, b"A" * (9 * MiB), filename="same.bin")
    second = upload(grant, b"B" * (9 * MiB), filename="same.bin")  # started while the first is open
    done = [finish(grant, started["ticket"]) for started in (second, first)]
    assert [status for status, _ in done] == [200, 200], done
    names = {answer["name"] for _, answer in done}
    assert len(names) == 2
    assert sorted(private.open(n).read(1) for n in names) == [b"A", b"B"]


def test_requests_per_upload_and_none_per_part(minio_settings, s3_server, counter, name):
    settings = minio_settings
    conditional_complete = s3_server.supports("conditional-complete")
    options = settings.STORAGES["default"]["OPTIONS"]
    settings.STORAGES = {
        **settings.STORAGES,
        "counted": {
            "BACKEND": "django_minio_backend.models.MinioBackend",
            "OPTIONS": {
                **options,
                "MINIO_HTTP_CLIENT": counter,
                "MINIO_CONDITIONAL_WRITES": s3_server.supports("conditional-put"),
                "MINIO_SERVER_CAPABILITIES": {"if-none-match-complete": conditional_complete},
            },
        },
    }
    grant = FieldSpec.build(storage="counted", upload_to=f"{name}/n/", field_id=f"{name}.n").grant_token()
    data = os.urandom(20 * 8 * MiB)  # 20 parts: 16 URLs come with the start, 4 are signed later
    counter.reset()
    started = upload(grant, data)
    # start: HEAD the name and list uploads to it (conditional Complete), or claim it (RGW); Create
    start = ["HEAD", "GET", "POST"] if conditional_complete else ["PUT", "POST"]
    assert counter.methods() == start  # signing the parts made no request
    counter.reset()
    status, _ = finish(grant, started["ticket"])
    assert status == 200
    # ListParts, (HEAD the claim,) Complete, HEAD for the size
    assert counter.methods() == (
        ["GET", "POST", "HEAD"] if conditional_complete else ["GET", "HEAD", "POST", "HEAD"]
    )
