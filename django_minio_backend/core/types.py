"""minio's types that the layers above the core name in signatures (they import no minio)."""

from minio import Minio
from minio.datatypes import Object
from minio.sse import SseCustomerKey

__all__ = ["Minio", "Object", "SseCustomerKey"]
