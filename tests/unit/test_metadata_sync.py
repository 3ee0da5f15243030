"""sync_minio_metadata's comparison, which needs no server: what is current and what a copy replaces."""

from __future__ import annotations

from django_minio_backend.ops import metadata_sync


def test_a_listing_with_metadata_needs_no_head_for_current_objects():
    # MinIO's ListObjectsV2 with metadata=true carries the headers; other servers leave them out.
    wanted = {"content-type": "text/plain", "cache-control": "max-age=60"}
    listed = {"content-type": "text/plain", "cache-control": "max-age=60", "x-amz-meta-a": "1"}
    assert metadata_sync.is_current(wanted, listed)
    assert not metadata_sync.is_current(wanted, {"content-type": "text/plain"})
    stored = {"content-type": "text/plain", "x-amz-meta-a": "1", "etag": '"x"', "content-length": "3"}
    assert metadata_sync.replacement_headers(wanted, stored) == {
        "content-type": "text/plain",
        "x-amz-meta-a": "1",
        "cache-control": "max-age=60",
    }
