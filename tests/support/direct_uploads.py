"""Helpers for direct-upload tests: the URLs of the batteries, calling the JSON views, and sending
the parts as a browser does (urllib3, no Django in between)."""

from __future__ import annotations

import json

import urllib3
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import include, path

from django_minio_backend.uploads import views

urlpatterns = [path("uploads/", include("django_minio_backend.urls"))]

BROWSER = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=120))
VIEWS = {"start": views.start, "sign": views.sign, "complete": views.complete, "abort": views.abort}


class User:
    """A signed-in user for the views (no database needed)."""

    is_authenticated = True
    is_active = True
    is_staff = True

    def __init__(self, pk: int = 1) -> None:
        self.pk = pk


def call(view: str, body: dict, *, user=None, csrf_checks: bool = False) -> tuple[int, dict]:
    """POST ``body`` as JSON to one of the views; (status, decoded answer)."""
    request = RequestFactory().post(
        f"/uploads/direct/{view}/", json.dumps(body), content_type="application/json"
    )
    request.user = User() if user is None else user
    request._dont_enforce_csrf_checks = not csrf_checks
    response = VIEWS[view](request)
    is_json = response.get("Content-Type", "").startswith("application/json")
    return response.status_code, json.loads(response.content) if is_json else {"html": response.content}


def anonymous() -> AnonymousUser:
    return AnonymousUser()


def upload(
    grant: str,
    data: bytes,
    *,
    filename: str = "file.bin",
    content_type: str = "application/octet-stream",
    mode: str = "multipart",
    user=None,
    skip_parts: tuple[int, ...] = (),
) -> dict:
    """Start, send (every part, in order), and return the start answer plus ``sent`` part numbers."""
    status, started = call(
        "start",
        {"grant": grant, "filename": filename, "size": len(data), "content_type": content_type, "mode": mode},
        user=user,
    )
    assert status == 200, started
    if started["mode"] == "single":
        response = BROWSER.request("PUT", started["url"], body=data, headers=started["headers"])
        assert response.status == 200, response.data
        return started
    size, count = started["part_size"], started["parts"]
    numbers = [n for n in range(1, count + 1) if n not in skip_parts]
    urls = dict(started["urls"])
    missing = [n for n in numbers if str(n) not in urls]
    if missing:
        status, signed = call(
            "sign", {"grant": grant, "ticket": started["ticket"], "parts": missing}, user=user
        )
        assert status == 200, signed
        urls.update(signed["urls"])
    for number in numbers:
        part = data[(number - 1) * size : number * size]
        response = BROWSER.request("PUT", urls[str(number)], body=part)
        assert response.status == 200, response.data
    return started


def finish(grant: str, ticket: str, *, user=None) -> tuple[int, dict]:
    return call("complete", {"grant": grant, "ticket": ticket}, user=user)
