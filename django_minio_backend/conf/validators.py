"""Value checkers for storage options: ``check(key, value) -> cleaned value``.

Each raises ConfigurationError naming the option key, what is wrong and the fix. They are pure:
no settings are read and no request is made.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from django.utils.module_loading import import_string

from ..errors import ConfigurationError, CredentialsConfigError, EncryptionConfigError

MiB = 1024 * 1024
GiB = 1024 * MiB
MIN_PART_SIZE = 5 * MiB  # S3's smallest multipart part (all but the last)
MAX_PART_SIZE = 5 * GiB
MAX_PARALLEL_PARTS = 16  # the default pool keeps 16 connections
MAX_URL_EXPIRY = timedelta(days=7)  # SigV4 presigned URLs cannot live longer
SSE_MODES = ("SSE-S3", "SSE-KMS", "SSE-C")
ADDRESSING_STYLES = ("auto", "path", "virtual")
# What MINIO_SERVER_CAPABILITIES may state (core/capabilities.py learns each otherwise).
CAPABILITIES = (
    "if-none-match-put",
    "if-none-match-complete",
    "bucket-policies",
    "presigned-post",
    "content-md5",
    "tagging",
    *(f"encryption:{mode}" for mode in SSE_MODES),
)

# Keyword arguments (besides MINIO_* options) that tune uploads, as in the 4.x line; OPTIONS may
# hold them too (Django passes OPTIONS as keyword arguments), and parse_options leaves them out.
UPLOAD_KWARGS = frozenset(
    {
        "replace_existing",
        "http_client",
        "metadata",
        "user_metadata",
        "sse",
        "progress",
        "tags",
        "retention",
        "legal_hold",
        "num_parallel_uploads",
        "headers",
    }
)

Check = Callable[[str, Any], Any]

_BUCKET_NAME = re.compile(r"^(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*$")
_STORAGE_CLASS = re.compile(r"^[A-Z][A-Z0-9_]*$")


def fail(key: str, problem: str, fix: str) -> ConfigurationError:
    return ConfigurationError(f"{key}: {problem}. {fix}")


def import_dotted(key: str, path: str) -> Any:
    """The object a dotted-path option names, or ConfigurationError naming the option."""
    try:
        return import_string(path)
    except ImportError as error:
        raise ConfigurationError(f"{key}: cannot import {path!r} ({error}). Fix the dotted path.") from None


def _type_name(value: Any) -> str:
    return type(value).__name__


def boolean(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise fail(key, f"expected True or False, got {_type_name(value)} {value!r}", "Use a bool.")
    return value


def text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise fail(key, f"expected a string, got {_type_name(value)}", "Use a str.")
    return value


def endpoint(key: str, value: Any) -> str:
    value = text(key, value).strip()
    if "://" in value:
        raise fail(
            key,
            f"{value!r} contains a URL scheme",
            "Give host[:port] only, and choose the scheme with MINIO_USE_HTTPS "
            "(or MINIO_EXTERNAL_ENDPOINT_USE_HTTPS).",
        )
    if "/" in value.rstrip("/"):
        raise fail(key, f"{value!r} contains a path", "Give host[:port] only.")
    return value.rstrip("/")


def location(key: str, value: Any) -> str:
    value = text(key, value).strip("/")
    if value and any(part in ("", ".", "..") for part in value.split("/")):
        raise fail(key, f"{value!r} has an empty, '.' or '..' segment", "Use a plain prefix like 'media'.")
    return value


def public_base_url(key: str, value: Any) -> str:
    value = text(key, value)
    if not value.startswith(("http://", "https://")):
        raise fail(key, f"{value!r} is not an http(s) URL", "Use e.g. 'https://cdn.example.com/media'.")
    return value.rstrip("/")


def bucket_name_problem(name: Any) -> str | None:
    """Why ``name`` is not a valid S3 bucket name, or None when it is valid."""
    if not isinstance(name, str):
        return f"expected a string, got {_type_name(name)}"
    if not _BUCKET_NAME.match(name) or ".." in name:
        return f"{name!r} is not a valid S3 bucket name (3-63 lowercase letters, digits, '.' and '-')"
    return None


def bucket(key: str, value: Any) -> str:
    problem = bucket_name_problem(value)
    if problem:
        raise fail(key, problem, "Rename the bucket.")
    return value


def bucket_list(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise fail(key, f"expected a list of bucket names, got {_type_name(value)}", "Use a list.")
    return tuple(bucket(key, item) for item in value)


def expiry(key: str, value: Any) -> timedelta:
    if not isinstance(value, timedelta):
        raise fail(
            key,
            f"expected a datetime.timedelta, got {_type_name(value)} {value!r}",
            "Use e.g. timedelta(hours=12).",
        )
    if value <= timedelta(0) or value > MAX_URL_EXPIRY:
        raise fail(key, f"{value} is outside (0, 7 days]", "S3 presigned URLs last at most 7 days.")
    return value


def int_between(low: int, high: int, unit: str = "bytes") -> Check:
    def check(key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(key, f"expected an int, got {_type_name(value)}", f"Use a number of {unit}.")
        if not low <= value <= high:
            raise fail(key, f"{value} is outside [{low}, {high}]", f"Use a value from {low} to {high}.")
        return value

    return check


def seconds(key: str, value: Any) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise fail(key, f"expected a positive number of seconds, got {value!r}", "Use e.g. 5.")
    return float(value)


def whole_seconds(key: str, value: Any) -> int:
    return int(seconds(key, value))


def policy_hooks(key: str, value: Any) -> tuple[tuple[str, dict], ...]:
    if not isinstance(value, list | tuple):
        raise fail(key, f"expected a list of (bucket, policy dict), got {_type_name(value)}", "Use a list.")
    hooks = []
    for item in value:
        if not (isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[1], dict)):
            raise fail(key, f"{item!r} is not a (bucket name, policy dict) pair", "Fix that entry.")
        hooks.append((bucket(key, item[0]), item[1]))
    return tuple(hooks)


def http_client(key: str, value: Any) -> Any:
    if not callable(getattr(value, "urlopen", None)):
        raise fail(
            key, f"expected a urllib3.PoolManager, got {_type_name(value)}", "Pass urllib3.PoolManager(...)."
        )
    return value


def addressing_style(key: str, value: Any) -> str:
    if value not in ADDRESSING_STYLES:
        raise fail(key, f"{value!r} is not one of {', '.join(ADDRESSING_STYLES)}", "Use one of them.")
    return value


def ca_bundle(key: str, value: Any) -> str | None:
    """A path (str or os.PathLike); whether the file is there is a system check (E051), not parsing."""
    if not isinstance(value, str | os.PathLike):
        raise fail(key, f"expected the path of a PEM file, got {_type_name(value)}", "Use a str or Path.")
    return os.fspath(value) or None


@dataclass(frozen=True)
class ProxyURL:
    """MINIO_PROXY, parsed: ``url`` without credentials; ``auth`` ("user:password") kept apart.

    The credentials go only into the Proxy-Authorization header (core/connection.py); repr and
    str show ``***`` in their place.
    """

    url: str  # scheme://host[:port]
    auth: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        if not self.auth:
            return self.url
        scheme, rest = self.url.split("://", 1)
        return f"{scheme}://***@{rest}"

    def __repr__(self) -> str:
        return f"ProxyURL({str(self)!r})"


def _redacted(value: str) -> str:
    """``value`` with whatever sits before an ``@`` in its authority replaced by ``***``."""
    scheme, sep, rest = value.partition("://")
    authority, slash, path = (rest if sep else scheme).partition("/")
    if "@" in authority:
        authority = "***@" + authority.rsplit("@", 1)[1]
    return f"{scheme}{sep}{authority}{slash}{path}" if sep else authority + slash + path


def proxy(key: str, value: Any) -> ProxyURL | None:
    """``http(s)://[user:password@]host[:port]``; error messages never repeat the credentials."""
    if isinstance(value, ProxyURL) or value == "":
        return value or None
    value = text(key, value).strip()
    shown = _redacted(value)
    fix = "Use e.g. 'http://user:password@proxy.example.com:3128'."
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise fail(key, f"{shown!r} is not a valid URL", fix) from None
    if parts.scheme not in ("http", "https"):
        raise fail(key, f"{shown!r} is not an http:// or https:// URL", fix)
    if not parts.hostname:
        raise fail(key, f"{shown!r} has no host", fix)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise fail(key, f"{shown!r} has a path, query or fragment", "Give scheme://host:port only.")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    url = f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")
    auth = None
    if parts.username is not None:
        auth = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return ProxyURL(url, auth)


def str_or_callable(key: str, value: Any) -> str | Callable[[str], str] | None:
    if value == "" or callable(value):
        return value or None
    return text(key, value)


def url_schemes(key: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise fail(key, f"expected a dict, got {_type_name(value)}", 'Use {"minio": "default"}.')
    for scheme, alias in value.items():
        if not isinstance(scheme, str) or not _URL_SCHEME.match(scheme):
            raise fail(
                key, f"{scheme!r} is not a URL scheme", "Use lowercase letters, digits, '+', '-' and '.'."
            )
        if not isinstance(alias, str) or not alias:
            raise fail(key, f"scheme {scheme!r} must map to a STORAGES alias name", "Use a str.")
    return dict(value)


def extensions(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise fail(
            key, f"expected a list of extensions, got {_type_name(value)}", "Use e.g. ['.css', '.js']."
        )
    for item in value:
        if not (isinstance(item, str) and item.startswith(".") and len(item) > 1):
            raise fail(key, f"{item!r} is not a file name extension", "Write extensions like '.css'.")
    return tuple(item.lower() for item in value)


def metadata(key: str, value: Any) -> dict:
    if not isinstance(value, Mapping):
        raise fail(key, f"expected a dict, got {_type_name(value)}", "Use {'name': value or callable}.")
    for meta_key, meta_value in value.items():
        if not isinstance(meta_key, str) or not (isinstance(meta_value, str) or callable(meta_value)):
            raise fail(key, f"entry {meta_key!r} must map a str to a str or a callable", "Fix that entry.")
    return dict(value)


def server_capabilities(key: str, value: Any) -> dict[str, bool]:
    if not isinstance(value, Mapping):
        raise fail(key, f"expected a dict, got {_type_name(value)}", 'Use e.g. {"presigned-post": False}.')
    for name, supported in value.items():
        if name not in CAPABILITIES:
            raise fail(key, f"{name!r} is not a capability", f"Use one of {', '.join(CAPABILITIES)}.")
        if not isinstance(supported, bool):
            raise fail(key, f"{name!r} must map to True or False, got {supported!r}", "Use a bool.")
    return dict(value)


def storage_class(key: str, value: Any) -> str | None:
    value = text(key, value)
    if value and not _STORAGE_CLASS.match(value):
        raise fail(
            key, f"{value!r} is not an S3 storage class", "Use e.g. 'STANDARD' or 'REDUCED_REDUNDANCY'."
        )
    return value or None


def sse_mode(key: str, value: Any) -> str:
    if value not in SSE_MODES:
        raise fail(key, f"{value!r} is not one of {', '.join(SSE_MODES)}", "Use one of them, or None.")
    return value


def kms_context(key: str, value: Any) -> dict:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise fail(key, f"expected a dict with str keys, got {_type_name(value)}", "Use {'key': 'value'}.")
    return dict(value)


def key_source(key: str, value: Any) -> Any:
    """A secret given directly (bytes), or where to get it: a callable or a dotted path to one."""
    if isinstance(value, bytes | str) or callable(value):
        return value or None
    raise fail(
        key,
        f"expected 32 bytes, a callable returning them, or a dotted path to one; got {_type_name(value)}",
        "See the README's server-side encryption section.",
    )


def hook(key: str, value: Any) -> Any:
    """A callable, or the dotted path of one (imported when first used), or None."""
    if value is None or callable(value) or (isinstance(value, str) and "." in value):
        return value or None
    raise fail(
        key,
        f"expected a callable or a dotted path to one, got {_type_name(value)}",
        "Use e.g. 'myapp.metrics.on_request'.",
    )


def credentials_provider(key: str, value: Any) -> Any:
    """A minio.credentials Provider, a callable building one, or a dotted path to either."""
    if isinstance(value, str) or callable(getattr(value, "retrieve", None)) or callable(value):
        return value or None
    raise fail(
        key,
        f"expected a minio.credentials provider, a callable or a dotted path, got {_type_name(value)}",
        "Use e.g. 'minio.credentials.EnvAWSProvider' or IamAwsProvider().",
    )


# -- options that must go together ------------------------------------------------------------


def credentials_problem(parsed: Mapping[str, Any]) -> CredentialsConfigError | None:
    """What is wrong with the combination of credential options (attribute names), if anything."""
    static = [
        key
        for key, attr in (("MINIO_ACCESS_KEY", "access_key"), ("MINIO_SECRET_KEY", "secret_key"))
        if parsed.get(attr)
    ]
    if parsed.get("credentials_provider") is not None and static:
        return CredentialsConfigError(
            f"MINIO_CREDENTIALS_PROVIDER is set together with {', '.join(static)}. "
            "Use either the provider or static keys: remove one."
        )
    if parsed.get("session_token") and not (parsed.get("access_key") and parsed.get("secret_key")):
        return CredentialsConfigError(
            "MINIO_SESSION_TOKEN is set without MINIO_ACCESS_KEY and MINIO_SECRET_KEY. A session token "
            "belongs to a temporary access key and secret key: set all three."
        )
    return None


def encryption_problem(parsed: Mapping[str, Any]) -> EncryptionConfigError | None:
    """What is wrong with the combination of encryption options, if anything."""
    mode = parsed.get("server_side_encryption")
    if mode == "SSE-KMS" and not parsed.get("sse_kms_key_id"):
        return EncryptionConfigError(
            "MINIO_SERVER_SIDE_ENCRYPTION = 'SSE-KMS' needs MINIO_SSE_KMS_KEY_ID: set the KMS key id."
        )
    if mode == "SSE-C" and parsed.get("sse_customer_key") is None:
        return EncryptionConfigError(
            "MINIO_SERVER_SIDE_ENCRYPTION = 'SSE-C' needs MINIO_SSE_CUSTOMER_KEY: give 32 bytes, or a "
            "callable or dotted path returning them."
        )
    for key, attr, needs in (
        ("MINIO_SSE_KMS_KEY_ID", "sse_kms_key_id", "SSE-KMS"),
        ("MINIO_SSE_KMS_CONTEXT", "sse_kms_context", "SSE-KMS"),
        ("MINIO_SSE_CUSTOMER_KEY", "sse_customer_key", "SSE-C"),
    ):
        if parsed.get(attr) is not None and mode != needs:
            return EncryptionConfigError(
                f"{key} is set but MINIO_SERVER_SIDE_ENCRYPTION is {mode!r}. "
                f"Set MINIO_SERVER_SIDE_ENCRYPTION = {needs!r}, or remove {key}."
            )
    return None
