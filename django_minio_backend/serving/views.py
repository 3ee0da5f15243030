"""A view that serves private files by policy: ask a permission callable, then redirect, stream or
hand the transfer to nginx.

    path("files/<path:name>", private_file_view("default", permission=authenticated))

``mode``:

- ``"redirect"`` (default): 302 to a presigned URL valid ``expires`` (default 60 s). Django sends
  no byte of the file and makes no request (the URL is signed locally), so a missing file is the
  S3 server's 404.
- ``"stream"``: the file through Django, with Range, ETag and conditional GET (``responses.py``).
- ``"accel"``: an empty answer with ``X-Accel-Redirect: <accel_prefix><path>?<presigned query>``;
  nginx fetches the presigned URL from its ``internal`` location (see the README's snippet), so
  Range and If-None-Match go to S3 and the bytes never pass through Django.

A refused permission is 404 (``deny_status=403`` for 403): by default the view does not tell who
may not read a file whether it exists.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from posixpath import basename
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied
from django.core.files.storage import storages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from .responses import stream_object

MODES = ("redirect", "stream", "accel")
Permission = Callable[[HttpRequest, str], bool]


def authenticated(request: HttpRequest, name: str) -> bool:
    """A permission: any signed-in user may read any file."""
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def private_file_view(
    storage: Any = "default",
    *,
    permission: Permission,
    mode: str = "redirect",
    expires: timedelta = timedelta(seconds=60),
    as_attachment: bool = False,
    accel_prefix: str = "/_minio_private",
    deny_status: int = 404,
) -> Callable[..., HttpResponseBase]:
    """A view ``(request, name)`` serving ``name`` from ``storage``: a Storage, a STORAGES alias, or a
    callable returning a Storage (called per request, as a FileField's ``storage=`` callable)."""
    if mode not in MODES:
        raise ValueError(f"private_file_view(mode={mode!r}): choose one of {', '.join(MODES)}.")
    if not callable(permission):
        raise TypeError("private_file_view(permission=...) takes a callable (request, name) -> bool.")
    if deny_status not in (403, 404):
        raise ValueError(f"private_file_view(deny_status={deny_status!r}): 403 or 404.")
    prefix = accel_prefix.rstrip("/")

    def resolve() -> Any:
        if isinstance(storage, str):
            return storages[storage]
        return storage if hasattr(storage, "url") else storage()  # a callable, as FileField takes

    @require_safe
    def view(request: HttpRequest, name: str) -> HttpResponseBase:
        if not permission(request, name):
            if deny_status == 403:
                raise PermissionDenied(f"Not allowed to read {name!r}.")
            raise Http404("No such file.")
        target = resolve()
        if mode == "stream":
            return stream_object(request, target, name, as_attachment=as_attachment)
        disposition = content_disposition_header(as_attachment, basename(name))
        overrides = {"response-content-disposition": disposition} if disposition else None
        url = target.url(name, expires=expires, response_headers=overrides)
        if mode == "redirect":
            response: HttpResponse = HttpResponseRedirect(url)
        else:
            parts = urlsplit(url)
            response = HttpResponse(headers={"X-Accel-Redirect": f"{prefix}{parts.path}?{parts.query}"})
            del response["Content-Type"]  # nginx takes S3's
        response["Cache-Control"] = "private, no-store"  # the URL expires; never cache the answer
        return response

    view.private_file_mode = mode  # type: ignore[attr-defined]
    return view
