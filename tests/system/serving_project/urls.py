"""The private-file view in each mode, Django's plain FileResponse for comparison, and a video page."""

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponse
from django.urls import path
from django.utils.html import escape

from django_minio_backend.serving import astream_object, private_file_view

TOKEN = "let-me-in"


def has_token(request, name):
    """The policy of these tests: a token in the query string or a cookie."""
    return TOKEN in (request.GET.get("token"), request.COOKIES.get("token"))


def plain(request, name):
    return FileResponse(default_storage.open(name))


async def async_stream(request, name):
    return await astream_object(request, default_storage, name)


def video_page(request, name):
    return HttpResponse(f'<video id="v" muted preload="auto" src="/stream/{escape(name)}"></video>')


urlpatterns = [
    path("stream/<path:name>", private_file_view(permission=has_token, mode="stream")),
    path("redirect/<path:name>", private_file_view(permission=has_token)),
    path("accel/<path:name>", private_file_view(permission=has_token, mode="accel")),
    path("astream/<path:name>", async_stream),
    path("plain/<path:name>", plain),
    path("video/<path:name>", video_page),
]
