"""``manage.py check --deploy``: what each server lacks that its alias's settings need.

Registered as a deploy check, so it runs only when asked (``--deploy``): it makes requests (the
capability report, ``ops/capabilities.py``). Each missing capability has its own ID and names the
setting to change. Plain ``manage.py check`` makes no request.

Warnings: W040 the server ignores If-None-Match on PUT (new names are HEAD then PUT: concurrent
saves of one name can overwrite each other), W041 presigned POST is refused (presigned_post()
raises). Errors: E040 public buckets on a server without bucket policies, E041 the configured
server-side encryption is not confirmed (saves are refused), E042 tags on a server without object
tagging (saves are refused). W042 the capabilities could not be
learned (the server did not answer).
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Warning

from ..conf.aliases import Alias, storage_aliases
from ..errors import ConfigurationError
from .capabilities import Finding, report


def _warning(number: int, alias: Alias, message: str, hint: str) -> Warning:
    return Warning(message, hint=hint, obj=alias.where(), id=f"minio_backend.W{number:03d}")


def _error(number: int, alias: Alias, message: str, hint: str) -> Error:
    return Error(message, hint=hint, obj=alias.where(), id=f"minio_backend.E{number:03d}")


def _messages(alias: Alias, found: dict[str, Finding]) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    server = f"The server of {alias.name!r}"
    if _lacks(found, "if-none-match-put") and alias.options.conditional_writes is None:
        messages.append(
            _warning(
                40,
                alias,
                f"{server} ignores If-None-Match on PUT: new names are checked with HEAD, then "
                "written, so two saves of one name at the same moment can overwrite each other.",
                "Set MINIO_CONDITIONAL_WRITES = False to state it (W012 then names the race), or "
                "use a server with conditional writes (AWS S3, MinIO, Ceph RGW).",
            )
        )
    public = [repr(bucket) for bucket, is_public in alias.buckets().items() if is_public]
    if _lacks(found, "bucket-policies") and public:
        messages.append(
            _error(
                40,
                alias,
                f"{server} has no bucket policies, so {', '.join(public)} cannot be made public: "
                "their plain URLs would be refused.",
                "List them in MINIO_PRIVATE_BUCKETS (served by presigned URLs), or use a server "
                "with bucket policies; serve static files from elsewhere on such a server.",
            )
        )
    for name in found:
        if name.startswith("encryption:") and _lacks(found, name):
            messages.append(
                _error(
                    41,
                    alias,
                    f"{server} does not confirm {name.partition(':')[2]} writes: every save would be "
                    "refused rather than stored unencrypted.",
                    "Remove MINIO_SERVER_SIDE_ENCRYPTION, or use a server that applies it.",
                )
            )
    if _lacks(found, "tagging") and alias.raw.get("tags"):
        messages.append(
            _error(
                42,
                alias,
                f"{server} does not implement object tagging: every save with this storage's tags "
                "would be refused.",
                "Remove the `tags` OPTIONS key, or use a server with object tagging.",
            )
        )
    if _lacks(found, "presigned-post"):
        messages.append(
            _warning(
                41,
                alias,
                f"{server} refuses presigned POST uploads: presigned_post() raises there.",
                "Hand out presigned_put_url() instead; MINIO_SERVER_CAPABILITIES = "
                '{"presigned-post": False} states it without a probe.',
            )
        )
    return messages


def _lacks(found: dict[str, Finding], name: str) -> bool:
    return name in found and found[name].supported is False


def run(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Learn each alias's server capabilities and report what its settings need but lack."""
    try:
        aliases = storage_aliases()
        for alias in aliases:
            alias.options  # noqa: B018 (a bad option is reported by the plain checks)
    except ConfigurationError:
        return []
    messages: list[CheckMessage] = []
    for alias in aliases:
        findings = {finding.name: finding for finding in report(alias)}
        unknown = [
            f for f in findings.values() if f.supported is None and f.detail and f.name != "versioning"
        ]
        messages += [
            _warning(
                42,
                alias,
                f"Could not learn what the server of {alias.name!r} can do: {finding.detail}",
                "Run `manage.py is_minio_available --capabilities` once the server answers.",
            )
            for finding in unknown[:1]
        ]
        messages += _messages(alias, findings)
    return messages
