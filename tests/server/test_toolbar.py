"""The django-debug-toolbar panel, rendered after a page that used the storage."""

import threading

import pytest
from django.core.files.base import ContentFile
from django.http import HttpResponse
from django.test import RequestFactory

from django_minio_backend.core import state

from tests.support import stored

pytest.importorskip("debug_toolbar")

PANEL = "django_minio_backend.toolbar.StoragePanel"


def render_page(settings, view):
    """Run ``view`` as the toolbar's middleware does; the panel after it recorded the page.

    The toolbar's app is installed for this test only (installed for all, its static files would
    change what the collectstatic tests upload)."""
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "debug_toolbar"]
    settings.DEBUG_TOOLBAR_PANELS = [PANEL]
    from debug_toolbar import toolbar

    request = RequestFactory().get("/page")
    bar = toolbar.DebugToolbar(request, view)
    panels = bar.enabled_panels
    for panel in panels:
        panel.enable_instrumentation()
    try:
        response = bar.process_request(request)
    finally:
        for panel in reversed(panels):
            panel.disable_instrumentation()
    (panel,) = panels
    panel.generate_stats(request, response)
    return panel


def test_the_panel_lists_the_pages_requests_with_time_and_bytes(settings, storage, name):
    storage.save(f"{name}/<b>.txt", ContentFile(b"12345"))
    state.reset()  # as a new process: the page's check of the bucket is its own (not the save's)
    outside = threading.Event()

    def view(request):
        assert stored(storage, f"{name}/<b>.txt") == b"12345"
        storage.exists(f"{name}/none.txt")
        thread = threading.Thread(target=lambda: (storage.exists(f"{name}/other.txt"), outside.set()))
        thread.start()  # another thread, as another page served meanwhile: not this page's
        thread.join()
        return HttpResponse("ok")

    panel = render_page(settings, view)
    html = panel.content
    assert outside.is_set()
    assert panel.nav_subtitle.startswith("3 requests in ")  # GET, HEAD (404), HEAD of the bucket
    assert html.count("<tr>") == 4  # the header and three requests
    assert "GetObject" in html and "HeadObject" in html and "HeadBucket" in html
    assert f"{name}/&lt;b&gt;.txt" in html and "<b>" not in html  # names are escaped
    assert "other.txt" not in html
    assert "0 bytes sent, 5 bytes received" in html
    stats = panel.get_stats()
    assert stats["bytes_received"] == 5 and stats["requests"][0]["duration_ms"] > 0


def test_a_page_without_requests_says_so(settings, storage, name):
    panel = render_page(settings, lambda request: HttpResponse(storage.url(f"{name}/a.txt")))
    assert panel.content == "<p>No S3 requests.</p>"
    assert panel.nav_subtitle == "0 requests in 0.0 ms"
