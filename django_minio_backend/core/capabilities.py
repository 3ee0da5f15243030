"""What a server can do, learned once per endpoint and process (kept in ``state``).

Each capability is learned lazily, the first time a setting needs it, by the cheapest means, and
remembered: a 501 NotImplemented is an answer ("no"), and no probe ever runs twice.

- ``if-none-match-put`` / ``if-none-match-complete``: whether ``If-None-Match: *`` is honoured on
  PUT and on CompleteMultipartUpload, by a probe on a throwaway reserved key (PUT: create,
  conditional create, delete). The first new-name multipart upload of a seekable file learns the
  Complete answer in band instead (store.py): it claims its name, completes with the condition
  over its own claim and, where refused, once more without it: one extra request, no probe
  upload. Where it is not, new-name saves fall back to HEAD then PUT (PUT) or
  claim their name first (Complete), with one warning. MINIO_CONDITIONAL_WRITES states the PUT
  answer up front and skips the probe.
- ``encryption:<mode>``: whether a write with SSE-C, SSE-KMS or SSE-S3 is confirmed by the
  server's answer (the ``x-amz-server-side-encryption*`` headers S3 returns), by a probe write of
  a throwaway reserved object (2 requests). A server that stores such a write without confirming
  it (OpenStack Swift stores SSE-C objects in plaintext) is refused before anything is stored.
- ``bucket-policies``: learned from the answer to GetBucketPolicy that initialize_buckets makes
  anyway (no extra request).
- ``tagging``: whether object tags are stored, learned from the 501 a tagged upload gets (no
  probe; the capability report probes with a tagged throwaway object, 2 requests).
- ``presigned-post``: whether a browser form POST is accepted, by a probe POST of a throwaway
  reserved object (2 requests) the first time ``presigned_post()`` is called.

Probe objects use reserved names (``names.RESERVED_PREFIX``) that listings leave out, and are
deleted at once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import urllib3
from minio.datatypes import PostPolicy

from ..errors import UnsupportedByServerError
from . import multipart, request
from .conditional import CLAIM_HEADER
from .connection import Connection
from .encryption import confirmed
from .state import STATE

logger = logging.getLogger("django_minio_backend")

PUT, COMPLETE = "put", "complete"
POLICIES = "bucket-policies"
PRESIGNED_POST = "presigned-post"
TAGGING = "tagging"

_FALLBACK = {
    PUT: "New names are now checked with HEAD, then written: two saves of one name at the same moment "
    "can overwrite each other. Set MINIO_CONDITIONAL_WRITES = False for this storage to skip the probe; "
    "`python manage.py check` then lists the storages with this race.",
    COMPLETE: "Large new-name uploads claim their name with a small object first (removed if the upload "
    "fails; clean_orphaned_minio_files removes stale ones).",
}


def encryption(mode: str) -> str:
    return f"encryption:{mode}"


def learned(endpoint: str) -> dict[str, bool]:
    """What this process has learned about ``endpoint`` so far (name -> supported)."""
    return STATE.capabilities(endpoint)


def not_implemented(response: urllib3.BaseHTTPResponse) -> bool:
    return response.status == 501


# -- If-None-Match -----------------------------------------------------------------------------------


def honours_if_none_match(conn: Connection, bucket: str, on: str, probe_key: Callable[[], str]) -> bool:
    """Whether the endpoint refuses a conditional ``on`` (PUT or COMPLETE) over an existing key."""

    def learn() -> bool:
        honoured = _probe_if_none_match(conn, bucket, on, probe_key())
        if not honoured:
            what = "PUT" if on == PUT else "CompleteMultipartUpload"
            logger.warning(
                "S3 endpoint %s ignores If-None-Match on %s. %s", conn.endpoint, what, _FALLBACK[on]
            )
        return honoured

    return STATE.learn(conn.endpoint, f"if-none-match-{on}", learn)


def learned_in_band(endpoint: str, on: str, honoured: bool) -> None:
    """Record what an ordinary write showed about If-None-Match on ``on`` (warn once if ignored)."""
    if not honoured and STATE.capability(endpoint, f"if-none-match-{on}") is None:
        what = "PUT" if on == PUT else "CompleteMultipartUpload"
        logger.warning("S3 endpoint %s ignores If-None-Match on %s. %s", endpoint, what, _FALLBACK[on])
    STATE.remember(endpoint, f"if-none-match-{on}", honoured)


def _refused(
    conn: Connection, bucket: str, method: str, key: str, body: bytes, **kwargs: object
) -> bool | None:
    """True on 412, False on success, None when the server does not implement the request (501)."""
    response, _ = request.send(conn, method, bucket, key, body=lambda: body, length=len(body), **kwargs)
    if response.status == 412:
        return True
    if not_implemented(response):
        return None
    request.check(response, bucket, key)
    return False


def _probe_if_none_match(conn: Connection, bucket: str, on: str, key: str) -> bool:
    plain = {CLAIM_HEADER: "probe", "Content-Type": "application/octet-stream"}
    request.check(request.empty(conn, "PUT", bucket, key, headers=plain), bucket, key)
    try:
        if on == PUT:
            return bool(_refused(conn, bucket, "PUT", key, b"", headers={**plain, "If-None-Match": "*"}))
        upload_id = multipart.create(conn, bucket, key, plain)
        try:
            response, _ = request.send(
                conn,
                "PUT",
                bucket,
                key,
                headers={},
                body=lambda: b"p",
                length=1,
                query={"partNumber": "1", "uploadId": upload_id},
            )
            request.check(response, bucket, key)
            body = multipart.completion_body([request.etag_of(response)])
            headers = {"Content-Type": "application/xml", "If-None-Match": "*"}
            return bool(
                _refused(conn, bucket, "POST", key, body, headers=headers, query={"uploadId": upload_id})
            )
        finally:
            multipart.abort_quietly(conn, bucket, key, upload_id)
    finally:
        _delete_probe(conn, bucket, key)


def _delete_probe(conn: Connection, bucket: str, key: str) -> None:
    try:
        conn.client.remove_object(bucket_name=bucket, object_name=key)
    except Exception as error:  # listings leave reserved names out; the probe's answer stands
        logger.warning("Could not delete the probe object %s/%s: %s", bucket, key, error)


# -- server-side encryption ------------------------------------------------------------------------


def confirms_encryption(
    conn: Connection, bucket: str, mode: str, headers: dict[str, str], probe_key: Callable[[], str]
) -> bool:
    """Whether a write with ``headers`` (the SSE headers of ``mode``) is confirmed by the answer."""

    def learn() -> bool:
        key = probe_key()
        response = request.empty(conn, "PUT", bucket, key, headers=dict(headers))
        try:
            if not_implemented(response):
                return False
            request.check(response, bucket, key)
            return confirmed(mode, response.headers)
        finally:
            if response.status < 300:
                _delete_probe(conn, bucket, key)

    return STATE.learn(conn.endpoint, encryption(mode), learn)


# -- bucket policies and presigned POST ------------------------------------------------------------


def note_policies(endpoint: str, supported: bool) -> None:
    """What an ordinary policy request showed (a 501 means: no bucket policies here)."""
    if not supported and STATE.capability(endpoint, POLICIES) is None:
        logger.warning(
            "S3 endpoint %s does not implement bucket policies: public buckets cannot be made public "
            "there (initialize_buckets reports them); private buckets work.",
            endpoint,
        )
    STATE.remember(endpoint, POLICIES, supported)


def accepts_presigned_post(conn: Connection, bucket: str, probe_key: Callable[[], str]) -> bool:
    """Whether the endpoint accepts an HTML form POST signed by ``presigned_post_policy``."""

    def learn() -> bool:
        key = probe_key()
        policy = PostPolicy(bucket_name=bucket, expiration=datetime.now(UTC) + timedelta(minutes=5))
        policy.add_equals_condition(element="key", value=key)
        fields = {"key": key, **conn.client.presigned_post_policy(policy=policy)}
        boundary = uuid.uuid4().hex
        body = _form(fields, boundary)
        url = conn.base_url.build(method="POST", region=conn.options.region, bucket_name=bucket).geturl()
        response = conn.http.request(
            "POST",
            url,
            body=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            retries=False,
            redirect=False,
        )
        if response.status < 300:
            _delete_probe(conn, bucket, key)
            return True
        logger.warning(
            "S3 endpoint %s does not accept presigned POST uploads (HTTP %s).", conn.endpoint, response.status
        )
        return False

    return STATE.learn(conn.endpoint, PRESIGNED_POST, learn)


def _form(fields: dict[str, str], boundary: str) -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    ]
    file_part = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p"\r\n\r\np\r\n'
    return "".join([*parts, file_part, f"--{boundary}--\r\n"]).encode()


def accepts_tagging(conn: Connection, bucket: str, probe_key: Callable[[], str]) -> bool:
    """Whether the endpoint stores object tags: a tagged throwaway PUT (501: no), then its delete."""

    def learn() -> bool:
        key = probe_key()
        headers = {"x-amz-tagging": "probe=1", "Content-Type": "application/octet-stream"}
        response = request.empty(conn, "PUT", bucket, key, headers=headers)
        if not_implemented(response):
            return False
        request.check(response, bucket, key)
        _delete_probe(conn, bucket, key)
        return True

    return STATE.learn(conn.endpoint, TAGGING, learn)


def unsupported_upload(
    endpoint: str, where: str, *, tagged: bool, conditional: bool
) -> UnsupportedByServerError:
    """What a 501 to an upload means: tags the server does not store, or a conditional PUT that
    MINIO_CONDITIONAL_WRITES = True (or MINIO_SERVER_CAPABILITIES) stated wrongly."""
    lacking = []
    if tagged:
        lacking.append("object tagging: remove the `tags` argument (or OPTIONS key) of this storage")
    if conditional:
        lacking.append(
            "conditional PUT (If-None-Match): set MINIO_CONDITIONAL_WRITES = False, or leave it unset so "
            "that the package learns it (new names are then checked with HEAD, then written)"
        )
    if not lacking:
        lacking.append("a feature this upload's settings ask for (NotImplemented)")
    return UnsupportedByServerError(
        f"Cannot save {where}: {endpoint} does not implement "
        + "; or ".join(lacking)
        + ". Nothing was stored."
    )
