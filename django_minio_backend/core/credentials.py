"""Where a storage's S3 credentials come from: static keys, or a minio credentials provider.

Every request asks the provider (minio's clients call ``retrieve()`` per request, and so does the
conditional PUT), so refreshing providers (IAM/IRSA web identity, STS AssumeRole) stay current.
A provider given as a dotted path or a callable is built once per process and shared (kept in
``state``, so ``state.reset()`` builds it again).
"""

from __future__ import annotations

from typing import Any

from minio.credentials import Credentials, Provider, StaticProvider

from ..conf.options import StorageOptions
from ..conf.validators import import_dotted
from ..errors import ConfigurationError
from .state import STATE

KEY = "MINIO_CREDENTIALS_PROVIDER"


def _is_provider(value: Any) -> bool:
    if isinstance(value, type):  # a provider class is a factory: call it
        return False
    return isinstance(value, Provider) or callable(getattr(value, "retrieve", None))


def build_provider(source: Any) -> Any:
    """The provider ``source`` names: an instance as is, a callable (class or factory) called once.

    Raises ConfigurationError naming MINIO_CREDENTIALS_PROVIDER when it cannot be imported or
    does not give a provider.
    """
    target = source
    if isinstance(source, str):
        target = import_dotted(KEY, source)
    if _is_provider(target):
        return target
    if not callable(target):
        raise ConfigurationError(f"{KEY}: {source!r} is not a provider or a callable building one.")
    built = target()
    if not _is_provider(built):
        raise ConfigurationError(
            f"{KEY}: {source!r} returned a {type(built).__name__}, not a minio.credentials provider "
            "(an object with retrieve())."
        )
    return built


def provider_for(options: StorageOptions) -> Any:
    """The credentials provider of a storage: the configured one, or static keys (+ session token)."""
    source = options.credentials_provider
    if source is None:
        return StaticProvider(options.access_key, options.secret_key, options.session_token or None)
    if _is_provider(source):
        return source
    return STATE.built("credentials provider", source, lambda: build_provider(source))


def current(options: StorageOptions) -> Credentials:
    """The credentials to sign the next request with (asks the provider, which may refresh)."""
    return provider_for(options).retrieve()
