"""What can be told about the connection options without a request: the system checks ask here.

MINIO_ADDRESSING_STYLE = "virtual" puts the bucket into the host name (``bucket.host``), which
cannot work for an endpoint that is an IP address, nor over https for a bucket name with dots
(``a.b.host`` matches no ``*.host`` certificate; minio then falls back to path style without a
word). MINIO_CA_BUNDLE must name a readable file: one ``stat``/``access``, no read. A pool of
one's own (MINIO_HTTP_CLIENT) is used as it is, so the options that build the default pool do not
apply to it.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from .options import StorageOptions

# The options that only shape the default pool (core/connection.py build_http_client).
DEFAULT_POOL_KEYS = ("MINIO_CONNECT_TIMEOUT", "MINIO_READ_TIMEOUT", "MINIO_CA_BUNDLE", "MINIO_PROXY")


def host_of(endpoint: str) -> str:
    """The host of ``host[:port]`` (``[v6]:port`` too), without brackets."""
    if endpoint.startswith("["):
        return endpoint[1:].split("]", 1)[0]
    return endpoint.rsplit(":", 1)[0] if endpoint.count(":") == 1 else endpoint


def is_ip_address(endpoint: str) -> bool:
    try:
        ipaddress.ip_address(host_of(endpoint))
    except ValueError:
        return False
    return True


def virtual_host_problems(options: StorageOptions, buckets: Iterable[str]) -> list[str]:
    """Why virtual-host style cannot address these buckets on these endpoints (empty: it can)."""
    if options.addressing_style != "virtual":
        return []
    problems = []
    endpoints = {options.endpoint: "MINIO_ENDPOINT"}
    endpoints.setdefault(options.external_endpoint, "MINIO_EXTERNAL_ENDPOINT")
    for endpoint, key in endpoints.items():
        if endpoint and is_ip_address(endpoint):
            problems.append(
                f"MINIO_ADDRESSING_STYLE = 'virtual' cannot address a bucket on {key} {endpoint!r}: it is "
                "an IP address, and a bucket's host name would be '<bucket>.<IP>'."
            )
    dotted = sorted(bucket for bucket in set(buckets) if "." in bucket)
    if dotted and (options.use_https or options.external_use_https):
        problems.append(
            f"MINIO_ADDRESSING_STYLE = 'virtual' cannot address bucket(s) {', '.join(map(repr, dotted))} "
            f"over https: a name with dots gives a host ('{dotted[0]}.<endpoint>') that no wildcard "
            "certificate matches (minio falls back to path style for them)."
        )
    return problems


def ca_bundle_problem(path: str | None) -> str | None:
    """Why MINIO_CA_BUNDLE cannot be used (missing, not a file, unreadable), or None."""
    if path is None:
        return None
    if not os.path.exists(path):
        return f"MINIO_CA_BUNDLE {path!r} does not exist."
    if not os.path.isfile(path):
        return f"MINIO_CA_BUNDLE {path!r} is not a file."
    if not os.access(path, os.R_OK):
        return f"MINIO_CA_BUNDLE {path!r} is not readable by this process (uid {os.getuid()})."
    return None


def ignored_with_http_client(raw: Mapping[str, Any]) -> list[str]:
    """The keys set in ``raw`` that MINIO_HTTP_CLIENT makes useless (they build the default pool)."""
    if raw.get("MINIO_HTTP_CLIENT") is None:
        return []
    return [key for key in DEFAULT_POOL_KEYS if raw.get(key) is not None]


class Finding(NamedTuple):
    """One system-check message: an error or a warning, its number, the message and the fix."""

    error: bool
    number: int
    message: str
    hint: str


def connection_findings(
    options: StorageOptions, buckets: Iterable[str], raw: Mapping[str, Any]
) -> list[Finding]:
    """E050 virtual-host style that cannot work, E051 an unusable CA bundle, W050 ignored pool keys."""
    fix = "Set MINIO_ADDRESSING_STYLE = 'path' (or 'auto'), or use a host name and buckets without dots."
    found = [Finding(True, 50, problem, fix) for problem in virtual_host_problems(options, buckets)]
    if problem := ca_bundle_problem(options.ca_bundle):
        found.append(Finding(True, 51, problem, "Give the path of a PEM file of CA certificates."))
    if ignored := ignored_with_http_client(raw):
        found.append(
            Finding(
                False,
                50,
                f"{', '.join(ignored)} do not apply to the pool given as MINIO_HTTP_CLIENT, which is "
                "used as it is.",
                "Configure your own PoolManager (or ProxyManager) with them, or remove MINIO_HTTP_CLIENT.",
            )
        )
    return found
