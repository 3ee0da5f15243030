"""copy_files_to_minio against a real server: same names, skips without GETs, conflicts kept, counts."""

from __future__ import annotations

import copy
import hashlib
import io
import os

import pytest
from django.core.files.storage import storages
from django.core.management import CommandError, call_command

from django_minio_backend.storage.compression import MD5_METADATA

MiB = 1024 * 1024


@pytest.fixture
def counted_settings(minio_settings, counter):
    """STORAGES["default"] on the counting pool, a FileSystemStorage alias "disk" beside it."""
    configured = copy.deepcopy(minio_settings.STORAGES)
    configured["default"]["OPTIONS"]["MINIO_HTTP_CLIENT"] = counter
    configured["default"]["OPTIONS"]["MINIO_MULTIPART_UPLOAD"] = True
    configured["default"]["OPTIONS"]["MINIO_MULTIPART_THRESHOLD"] = 8 * MiB
    configured["default"]["OPTIONS"]["MINIO_MULTIPART_PART_SIZE"] = 5 * MiB
    minio_settings.STORAGES = configured
    return minio_settings


def tree(root, big: int = 0) -> dict[str, bytes]:
    files = {f"docs/{i:03d}.txt": f"document {i}\n".encode() * (i + 1) for i in range(30)}
    files["images/a.png"] = b"\x89PNG" + os.urandom(3000)
    files["top.bin"] = b""
    if big:
        files["video/big.bin"] = os.urandom(big)
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return files


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("copy_files_to_minio", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def puts(counter) -> list[str]:
    return [path for method, path in counter.requests if method in ("PUT", "POST")]


def test_copies_under_the_same_names_then_a_rerun_makes_no_put_and_no_get(
    counted_settings, counter, tmp_path, name
):
    files = tree(tmp_path, big=12 * MiB)  # one file in 3 parts
    out, _ = run("--from-path", str(tmp_path), "--prefix", name, "--workers", "4")
    assert f"{len(files)} copied" in out and "0 failed" in out
    target = storages["default"]
    for relative, body in files.items():
        with target.open(f"{name}/{relative}") as handle:
            assert hashlib.md5(handle.read()).hexdigest() == hashlib.md5(body).hexdigest()
        assert target.stat(f"{name}/{relative}").metadata[MD5_METADATA] == hashlib.md5(body).hexdigest()
    assert target.stat(f"{name}/images/a.png").content_type == "image/png"
    counter.reset()
    out, _ = run("--from-path", str(tmp_path), "--prefix", name)
    assert f"0 copied (0 B), {len(files)} skipped" in out
    assert puts(counter) == []
    assert [m for m in counter.methods() if m not in ("GET",)] == []  # the multipart file matched its ETag
    assert all("list-type" in s.query or "delimiter" in s.query for s in counter.sent)  # listings only


def test_changed_file_is_a_conflict_unless_replace(counted_settings, counter, tmp_path, name):
    tree(tmp_path)
    run("--from-path", str(tmp_path), "--prefix", name)
    (tmp_path / "docs/001.txt").write_bytes(b"changed\n")  # other size
    (tmp_path / "docs/002.txt").write_bytes(b"X" * len((tmp_path / "docs/002.txt").read_bytes()))  # same size
    counter.reset()
    out, err = run("--from-path", str(tmp_path), "--prefix", name)
    assert "2 conflict(s)" in out and "0 copied" in out
    assert f"{name}/docs/001.txt" in err and f"{name}/docs/002.txt" in err
    assert puts(counter) == []
    assert [m for m in counter.methods() if m == "HEAD"] == ["HEAD"]  # the same-size one: one HEAD
    target = storages["default"]
    assert target.open(f"{name}/docs/001.txt").read() != b"changed\n"
    counter.reset()
    out, _ = run("--from-path", str(tmp_path), "--prefix", name, "--replace")
    assert "2 copied" in out
    assert len(puts(counter)) == 2
    assert target.open(f"{name}/docs/001.txt").read() == b"changed\n"


def test_dry_run_writes_nothing_and_names_what_it_would_copy(counted_settings, counter, tmp_path, name):
    files = tree(tmp_path)
    counter.reset()
    out, _ = run("--from-path", str(tmp_path), "--prefix", name, "--dry-run")
    assert f"{len(files)} would copy" in out and f"would copy: {name}/docs/000.txt" in out
    assert puts(counter) == [] and set(counter.methods()) <= {"GET", "HEAD"}
    assert not storages["default"].exists(f"{name}/docs/000.txt")


def test_verify_reads_everything_back(counted_settings, counter, tmp_path, name):
    files = tree(tmp_path)
    run("--from-path", str(tmp_path), "--prefix", name)
    out, _ = run("--from-path", str(tmp_path), "--prefix", name, "--verify")
    assert f"{len(files)} verified by reading back" in out


def test_from_alias_and_from_model(counted_settings, tmp_path, name, db):
    tree(tmp_path)
    counted_settings.STORAGES = {
        **counted_settings.STORAGES,
        "disk": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    out, _ = run("--from-alias", "disk", "--prefix", f"{name}/all")
    assert "32 copied" in out
    field = _file_field_model()
    model, field_name = field
    model.objects.create(**{field_name: "docs/003.txt"})
    model.objects.create(**{field_name: "images/a.png"})
    model.objects.create(**{field_name: "gone.txt"})
    spec = f"{model._meta.app_label}.{model.__name__}.{field_name}"
    with pytest.raises(CommandError, match="not in the source"):
        run("--from-alias", "disk", "--prefix", f"{name}/rows", "--from-model", spec)
    listed = sorted(o.object_name for o in storages["default"].store.list(f"{name}/rows/", recursive=True))
    assert listed == [f"{name}/rows/docs/003.txt", f"{name}/rows/images/a.png"]


def test_missing_source_and_bad_alias_fail_clearly(counted_settings, tmp_path):
    with pytest.raises(CommandError, match="not a directory"):
        run("--from-path", str(tmp_path / "nope"))
    with pytest.raises(CommandError, match="not in STORAGES"):
        run("--from-path", str(tmp_path), "--alias", "nope")
    with pytest.raises(CommandError, match="--from-path DIR or --from-alias"):
        run()


def _file_field_model():
    from django.apps import apps
    from django.db.models import FileField

    for model in apps.get_app_config("testapp").get_models():
        for field in model._meta.get_fields():
            if isinstance(field, FileField):
                return model, field.name
    raise AssertionError("the test app has no FileField")
