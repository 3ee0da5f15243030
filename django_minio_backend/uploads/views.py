"""The JSON endpoints the widget's script calls: start, sign parts, complete, abort.

Each is a CSRF-protected POST. Every call carries the grant the page was rendered with, and its
permission hook is asked each time; a ticket is honoured only with the grant of its field and for
the user it was started for.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_POST

from ..errors import StorageServerError
from . import sessions, signed

logger = logging.getLogger("django_minio_backend")


class Forbidden(Exception):
    pass


def _owner(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    return str(user.pk) if user is not None and user.is_authenticated else ""


def _payload(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        data = json.loads(request.body or b"{}")
    else:  # navigator.sendBeacon on page hide sends a form
        data = {key: request.POST.get(key) for key in ("grant", "ticket")}
    if not isinstance(data, dict):
        raise sessions.UploadRefused("Send a JSON object.")
    return data


def _grant(request: HttpRequest, data: dict[str, Any]) -> signed.Grant:
    grant = signed.load_grant(data.get("grant"))
    if not import_string(grant.permission)(request, grant):
        raise Forbidden(f"You may not upload files to {grant.field}.")
    return grant


def _ticket(request: HttpRequest, data: dict[str, Any], grant: signed.Grant) -> signed.Ticket:
    ticket = signed.load_ticket(data.get("ticket"))
    if ticket.field != grant.field or ticket.owner != _owner(request):
        raise Forbidden("This upload was started for another field or user.")
    return ticket


def _endpoint(handler: Callable[[HttpRequest, dict[str, Any]], dict[str, Any]]) -> Callable:
    @csrf_protect
    @require_POST
    def view(request: HttpRequest) -> JsonResponse:
        try:
            return JsonResponse(handler(request, _payload(request)))
        except Forbidden as error:
            return JsonResponse({"error": str(error)}, status=403)
        except (ValueError, SuspiciousOperation) as error:  # refused, bad signature, bad JSON, size
            return JsonResponse({"error": str(error)}, status=400)
        except (StorageServerError, FileNotFoundError) as error:
            logger.warning("Direct upload failed: %s", error)
            return JsonResponse({"error": str(error)}, status=502)

    view.__name__ = view.__qualname__ = handler.__name__
    return view


@_endpoint
def start(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    grant = _grant(request, data)
    begun = sessions.begin(
        grant,
        filename=str(data.get("filename") or ""),
        size=data.get("size"),
        content_type=data.get("content_type"),
        mode=str(data.get("mode") or "multipart"),
        owner=_owner(request),
    )
    return {**begun, "ticket": signed.dump(begun["ticket"])}


@_endpoint
def sign(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    grant = _grant(request, data)
    return {"urls": sessions.part_urls(grant, _ticket(request, data, grant), data.get("parts"))}


@_endpoint
def complete(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    grant = _grant(request, data)
    value = sessions.finish(grant, _ticket(request, data, grant))
    return {"value": signed.dump(value), "name": value.name, "size": value.size}


@_endpoint
def abort(request: HttpRequest, data: dict[str, Any]) -> dict[str, Any]:
    grant = _grant(request, data)
    sessions.cancel(grant, _ticket(request, data, grant))
    return {"aborted": True}
