"""A django-debug-toolbar panel listing the S3 requests a page made, as the SQL panel lists queries.

Add it to the toolbar's panels (django-debug-toolbar is not a dependency; this module imports it
and is only imported when listed)::

    DEBUG_TOOLBAR_PANELS = [..., "django_minio_backend.toolbar.StoragePanel"]

It records the requests sent while the toolbar handles one request, in that request's thread or
task only (``core.events.recording(this_context_only=True)``), so pages served side by side do
not mix. Work that this package hands to its own worker threads (parallel uploads) is not shown.
"""

from __future__ import annotations

import contextlib
from typing import Any

from debug_toolbar.panels import Panel
from django.utils.html import format_html, format_html_join

from .core.events import recording

_COLUMNS = (
    "operation",
    "method",
    "bucket",
    "key",
    "status",
    "attempt",
    "duration_ms",
    "bytes_sent",
    "bytes_received",
)


class StoragePanel(Panel):
    """The S3 requests of this page: operation, object, status, time and bytes."""

    title = "S3 storage requests"
    is_async = True

    def enable_instrumentation(self) -> None:
        self._stack = contextlib.ExitStack()
        self._events = self._stack.enter_context(recording(this_context_only=True))

    def disable_instrumentation(self) -> None:
        stack = getattr(self, "_stack", None)
        if stack is not None:
            stack.close()

    def generate_stats(self, request: Any, response: Any) -> None:
        rows = [
            {
                **event.as_dict(),
                "status": event.status if event.status is not None else event.error,
                "duration_ms": round(event.duration * 1000, 2),
            }
            for event in getattr(self, "_events", [])
        ]
        self.record_stats(
            {
                "requests": rows,
                "total_ms": round(sum(row["duration_ms"] for row in rows), 2),
                "bytes_sent": sum(row["bytes_sent"] for row in rows),
                "bytes_received": sum(row["bytes_received"] for row in rows),
            }
        )

    @property
    def nav_subtitle(self) -> str:
        stats = self.get_stats()
        count = len(stats.get("requests", []))
        return f"{count} request{'' if count == 1 else 's'} in {stats.get('total_ms', 0):.1f} ms"

    @property
    def content(self) -> str:
        stats = self.get_stats()
        rows = stats.get("requests", [])
        if not rows:
            return format_html("<p>{}</p>", "No S3 requests.")
        head = format_html_join("", "<th>{}</th>", ((column.replace("_", " "),) for column in _COLUMNS))
        body = format_html_join(
            "",
            "<tr>" + "<td>{}</td>" * len(_COLUMNS) + "</tr>",
            (tuple("" if row[c] is None else row[c] for c in _COLUMNS) for row in rows),
        )
        summary = format_html(
            "<p>{} requests, {} ms, {} bytes sent, {} bytes received.</p>",
            len(rows), stats["total_ms"], stats["bytes_sent"], stats["bytes_received"],
        )  # fmt: skip
        return format_html(
            "{}<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", summary, head, body
        )
