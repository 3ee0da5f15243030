"""A request budget for tests, as ``assertNumQueries`` is for SQL::

    from django_minio_backend.testing import assert_max_requests, count_requests

    with count_requests() as made:
        article.image.url  # signing makes no request
    assert len(made) == 0

    with assert_max_requests(2):
        render_gallery()  # AssertionError naming each request if it makes 3 or more

Both count every S3 request this package sends in the process while the block runs, from any
thread (parallel uploads included); each entry is a ``RequestEvent`` (``method``, ``status``,
``operation``, ``bucket``, ``key``, ``bytes_sent``, ``bytes_received``, ``duration``, ``attempt``).
They work with pytest and unittest alike: a budget exceeded raises AssertionError.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..core.events import RequestEvent, recording


class RequestLog(list[RequestEvent]):
    """The requests made inside a ``count_requests()`` block, in the order they were answered."""

    def describe(self) -> str:
        return "\n".join(f"  {number}. {event}" for number, event in enumerate(self, start=1))


@contextlib.contextmanager
def count_requests() -> Iterator[RequestLog]:
    """Collect the S3 requests made inside the block into the RequestLog it gives."""
    log = RequestLog()
    with recording() as events:
        try:
            yield log
        finally:
            log.extend(events)


@contextlib.contextmanager
def assert_max_requests(limit: int) -> Iterator[RequestLog]:
    """Fail (AssertionError naming each request) when the block makes more than ``limit`` S3 requests."""
    with count_requests() as log:
        yield log
    if len(log) > limit:
        raise AssertionError(
            f"{len(log)} S3 requests were made, more than the budget of {limit}:\n{log.describe()}"
        )
