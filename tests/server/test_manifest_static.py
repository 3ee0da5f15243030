"""The manifest static storage reads nothing back and uploads each final file once (issue 24)."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import CommandError, call_command
from django.template import Context, Engine

from tests.server.test_collectstatic import MANIFEST, bucket_contents, collect, make_site
from tests.server.test_collectstatic import use_static as use_static  # a fixture


def make_layered_site(source):
    """CSS importing CSS: Django needs more than one pass, each with new hashed names."""
    make_site(source)
    (source / "css" / "base.css").write_bytes(b"@import url('site.css');\nh1 { color: red; }\n")
    (source / "css" / "page.css").write_bytes(b"@import url('base.css');\n")


def test_first_run_reads_nothing_back_and_uploads_each_final_file_once(
    use_static, counter, s3_server, static_bucket
):
    make_layered_site(use_static(MANIFEST))
    collect()
    puts = [path for method, path in counter.requests if method == "PUT"]
    gets = [
        path
        for method, path in counter.requests
        if method == "GET" and path.rstrip("/") != f"/{static_bucket}"
    ]
    assert gets == []  # no read-back: hashing read the local sources
    assert len(puts) == len(set(puts))  # each name uploaded once
    manifest = staticfiles_storage.hashed_files
    stored = set(bucket_contents(s3_server, static_bucket))
    # the four originals, their final hashed copies and the manifest; no intermediate name
    assert stored == {*manifest, *manifest.values(), "staticfiles.json"}
    assert {"css/page.css", "css/base.css", "css/site.css", "img/logo.png"} <= set(
        manifest
    )  # and apps' files
    assert len(puts) == len(stored) == 2 * len(manifest) + 1


def test_keep_only_hashed_files_stores_the_hashed_copies_and_the_manifest(
    use_static, s3_server, static_bucket
):
    make_layered_site(use_static(MANIFEST, MINIO_STATIC_KEEP_ONLY_HASHED_FILES=True))
    counts = collect()
    manifest = staticfiles_storage.hashed_files
    contents = bucket_contents(s3_server, static_bucket)
    assert set(contents) == {*manifest.values(), "staticfiles.json"}
    assert counts == Counter({"LIST": 1, "PUT": len(manifest) + 1})
    hashed_png = manifest["img/logo.png"].rsplit("/", 1)[1]
    assert hashed_png.encode() in contents[manifest["css/site.css"]]  # references still rewritten

    use_static(MANIFEST, MINIO_STATIC_KEEP_ONLY_HASHED_FILES=True)  # a new process
    engine = Engine(libraries={"static": "django.templatetags.static"})
    url = engine.from_string("{% load static %}{% static 'css/page.css' %}").render(Context())
    assert url.endswith(manifest["css/page.css"])
    assert collect() == Counter({"LIST": 1})  # unchanged: the one listing


def test_keep_only_hashed_files_removes_originals_an_earlier_run_stored(use_static, s3_server, static_bucket):
    source = use_static(MANIFEST)
    make_site(source)
    collect()
    use_static(MANIFEST, MINIO_STATIC_KEEP_ONLY_HASHED_FILES=True)
    collect()
    assert set(bucket_contents(s3_server, static_bucket)) == {
        *staticfiles_storage.hashed_files.values(),
        "staticfiles.json",
    }


def test_keep_only_hashed_files_refuses_no_post_process(use_static, s3_server, static_bucket):
    make_site(use_static(MANIFEST, MINIO_STATIC_KEEP_ONLY_HASHED_FILES=True))
    with pytest.raises(CommandError, match="MINIO_STATIC_KEEP_ONLY_HASHED_FILES"):
        call_command("collectstatic", interactive=False, verbosity=0, post_process=False)
    assert bucket_contents(s3_server, static_bucket) == {}


def test_an_edited_css_file_costs_its_own_upload_and_the_manifest(use_static, static_bucket):
    source = use_static(MANIFEST)
    make_layered_site(source)
    collect()
    (source / "css" / "page.css").write_bytes(b"@import url('base.css');\np { margin: 0; }\n")
    counts = collect()
    # the original and its hashed copy, and the manifest naming the new copy
    assert counts == Counter({"LIST": 1, "PUT": 3})
