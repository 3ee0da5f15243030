"""collectstatic's rules that need no server: change detection by ETag or MD5, no stack inspection."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

import django_minio_backend
from django_minio_backend.staticfiles.session import CollectSession, Entry, StaticStore
from django_minio_backend.storage.compression import fingerprint_path


def test_no_stack_inspection_anywhere_in_the_package():
    package = Path(django_minio_backend.__file__).parent
    for path in package.rglob("*.py"):
        text = path.read_text()
        assert "_getframe" not in text and "inspect.stack" not in text, path


@pytest.mark.parametrize(("etags_are_md5", "current"), [(False, True), (True, False)])
def test_an_etag_that_is_not_the_md5_defers_to_the_stored_md5(tmp_path, etags_are_md5, current):
    """As with SSE-KMS on AWS: a 32-hex ETag that is not the content's MD5."""
    source = tmp_path / "app.css"
    source.write_bytes(b"body { color: red; }\n")
    local = fingerprint_path(str(source), gzip=True)
    asked = []
    store = StaticStore(
        list_entries=lambda: [("app.css", Entry(local.size, "0" * 32, datetime.now(UTC)))],
        stored_md5=lambda name: asked.append(name) or (local.md5, False),
        delete_many=lambda names: None,
        gzips=lambda name: True,
        etags_are_md5=etags_are_md5,
        workers=1,
    )
    session = CollectSession(store)
    try:
        assert session.is_current("app.css", session.entry("app.css"), local) is current
        assert asked == ([] if etags_are_md5 else ["app.css"])
    finally:
        session.close()
