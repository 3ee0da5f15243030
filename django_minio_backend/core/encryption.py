"""Server-side encryption from options: the minio ``Sse`` objects writes and reads carry.

- SSE-S3 and SSE-KMS are sent on writes (PUT, CreateMultipartUpload); reads need nothing.
- SSE-C sends the customer key on every write, read (GET), stat (HEAD) and copy; the server keeps
  only the key's MD5. The key is resolved once per process from its source and never logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from minio.sse import Sse, SseCustomerKey, SseKMS, SseS3

from ..conf.options import StorageOptions
from ..conf.validators import import_dotted
from ..errors import ConfigurationError
from .state import STATE

KEY = "MINIO_SSE_CUSTOMER_KEY"
SSE_C_KEY_BYTES = 32


def _customer_key_bytes(source: Any) -> bytes:
    value = source
    if isinstance(value, str):
        value = import_dotted(KEY, value)
    if callable(value):
        value = value()
    if not isinstance(value, bytes) or len(value) != SSE_C_KEY_BYTES:
        got = f"{len(value)} bytes" if isinstance(value, bytes) else type(value).__name__
        raise ConfigurationError(
            f"{KEY}: the key must be exactly {SSE_C_KEY_BYTES} raw bytes, got {got}. "
            "Decode a base64 key with base64.b64decode() first."
        )
    return value


def customer_key(options: StorageOptions) -> SseCustomerKey | None:
    """The SSE-C key for reads, stats, writes and copies; None unless SSE-C is configured."""
    if options.server_side_encryption != "SSE-C":
        return None
    source = options.sse_customer_key
    if isinstance(source, bytes):
        return SseCustomerKey(_customer_key_bytes(source))
    return STATE.built("SSE-C key", source, lambda: SseCustomerKey(_customer_key_bytes(source)))


def for_writes(options: StorageOptions) -> Sse | None:
    """What to send on uploads, or None when MINIO_SERVER_SIDE_ENCRYPTION is not set."""
    mode = options.server_side_encryption
    if mode == "SSE-S3":
        return SseS3()
    if mode == "SSE-KMS":
        return SseKMS(options.sse_kms_key_id or "", options.sse_kms_context or {})
    return customer_key(options)


# What a write's answer carries when the server applied each mode.
CONFIRMATION_HEADER = {
    "SSE-C": "x-amz-server-side-encryption-customer-algorithm",
    "SSE-KMS": "x-amz-server-side-encryption",
    "SSE-S3": "x-amz-server-side-encryption",
}


def mode_of(headers: Mapping[str, str]) -> str | None:
    """The encryption a write's headers ask for ("SSE-C", "SSE-KMS", "SSE-S3"), or None."""
    lower = {key.lower(): value for key, value in headers.items()}
    if "x-amz-server-side-encryption-customer-algorithm" in lower:
        return "SSE-C"
    asked = lower.get("x-amz-server-side-encryption")
    return {"aws:kms": "SSE-KMS", "AES256": "SSE-S3"}.get(asked or "")


def encryption_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The SSE headers among ``headers`` (what a probe write needs to send)."""
    return {
        key: value for key, value in headers.items() if key.lower().startswith("x-amz-server-side-encryption")
    }


def confirmed(mode: str, answer_headers: Mapping[str, str]) -> bool:
    """Whether a write's answer headers say the server applied encryption ``mode``."""
    value = answer_headers.get(CONFIRMATION_HEADER[mode])
    if mode == "SSE-KMS":
        return value == "aws:kms"
    return bool(value)
