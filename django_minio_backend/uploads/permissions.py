"""Who may start a direct upload: the default hooks. A hook is ``hook(request, grant) -> bool``.

Name your own by its dotted path (or pass a module-level function) as ``DirectUploadField(permission=...)``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def authenticated(request: HttpRequest, grant: Any) -> bool:
    """Signed-in users (the default)."""
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def staff(request: HttpRequest, grant: Any) -> bool:
    """Active staff users, as the admin requires."""
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_staff)


def anyone(request: HttpRequest, grant: Any) -> bool:
    """Everyone, anonymous visitors included (the size and type limits still hold)."""
    return True
