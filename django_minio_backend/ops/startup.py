"""MINIO_CONSISTENCY_CHECK_ON_START: initialise buckets when Django starts, within a time budget."""

from __future__ import annotations

import logging
import threading

import urllib3
from django.conf import settings

from ..conf.aliases import storage_aliases
from ..conf.buckets import plan_buckets
from ..conf.options import StorageOptions
from ..core.connection import build_http_client
from ..core.state import STATE
from ..errors import ConfigurationError
from .buckets import BucketResult, initialize_buckets

logger = logging.getLogger("django_minio_backend")

# The whole check may take this many MINIO_HEALTH_CHECK_TIMEOUTs before start-up goes on without it.
BUDGET_IN_TIMEOUTS = 5


def aliases_to_check() -> dict[str, dict]:
    """The STORAGES entries of MinIO aliases that set MINIO_CONSISTENCY_CHECK_ON_START. No I/O."""
    wanted = {}
    for alias in storage_aliases():
        if alias.options.consistency_check_on_start:
            wanted[alias.name] = settings.STORAGES[alias.name]
    return wanted


def run_once() -> list[BucketResult] | None:
    """The consistency check, once per process (``state.reset()`` allows it again). No I/O when
    no alias asks for it."""
    return consistency_check() if STATE.first_startup() else None


def consistency_check() -> list[BucketResult] | None:
    """Run initialize_buckets for the aliases that ask for it; log what changed and what failed.

    Returns None when nothing was asked (and then no request was made) or the budget ran out.
    """
    try:
        storages = aliases_to_check()
        if not storages:
            return None
        specs = plan_buckets(storages)
    except ConfigurationError as error:
        logger.error("MINIO_CONSISTENCY_CHECK_ON_START skipped: %s (see `manage.py check`)", error)
        return None
    timeout = max(spec.options.health_check_timeout for spec in specs)
    if not specs:
        return []
    pool = _startup_pool(specs[0].options, timeout)
    outcome: list[list[BucketResult]] = []
    worker = threading.Thread(
        target=lambda: outcome.append(initialize_buckets(specs, default_http_client=pool)),
        name="minio-consistency-check",
        daemon=True,
    )
    worker.start()
    worker.join(timeout * BUDGET_IN_TIMEOUTS)
    if not outcome:
        logger.error(
            "MINIO_CONSISTENCY_CHECK_ON_START did not finish within %.0f s; start-up goes on without it. "
            "Run `manage.py initialize_buckets` to see which bucket is slow.",
            timeout * BUDGET_IN_TIMEOUTS,
        )
        return None
    for result in outcome[0]:
        where = f"{result.spec.endpoint}/{result.spec.bucket}"
        if result.error:
            logger.error("MINIO_CONSISTENCY_CHECK_ON_START: %s: %s", where, result.error)
        elif result.changes:
            logger.info("MINIO_CONSISTENCY_CHECK_ON_START: %s: %s", where, "; ".join(result.changes))
    return outcome[0]


def _startup_pool(options: StorageOptions, timeout: float) -> urllib3.PoolManager:
    """The storage's usual pool settings, but with short timeouts and no retries."""
    return build_http_client(options, timeout=urllib3.Timeout(connect=timeout, read=timeout), retries=False)
