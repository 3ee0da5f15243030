"""Public helpers kept for compatibility with the 4.x line."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from .core.health import MinioServerStatus
from .errors import ConfigurationError, PrivatePublicMixedError
from .models import get_iso_date, iso_date_prefix  # defined there: 4.x migrations name that path

__all__ = [
    "ConfigurationError",
    "MinioServerStatus",
    "PrivatePublicMixedError",
    "get_iso_date",
    "get_setting",
    "get_storages_setting",
    "iso_date_prefix",
]


def get_setting(name: str, default: Any = None) -> Any:
    """A top-level Django setting, or ``default`` when it is not set."""
    return getattr(settings, name, default)


def get_storages_setting(name: str, storage: str = "default", default: Any = None) -> Any:
    """A key of ``STORAGES[storage]["OPTIONS"]``, or ``default`` when absent."""
    return settings.STORAGES.get(storage, {}).get("OPTIONS", {}).get(name, default)
