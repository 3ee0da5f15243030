"""What this process has learned, in one place, so that it can be forgotten with :func:`reset`.

A process learns things once and remembers them, so that no request is repeated:

- which server capabilities an endpoint has (for example whether it honours ``If-None-Match``),
  keyed by (endpoint, capability) and learned under a lock, so a probe never runs twice;
- which buckets are known to exist (a HEAD 404 then means a missing key, not a missing bucket)
  and which were created by ``MINIO_BUCKET_CHECK_ON_SAVE``;
- objects built from options once per process: credential providers and SSE-C keys;
- whether the start-up consistency check already ran;
- a generation number that grows whenever STORAGES changes or the state is reset, so the
  multibucket router drops the backends it built from older settings.

``reset()`` forgets all of it (tests call it between tests; a long-lived process may call it after
a server was upgraded). Nothing here makes a request: callers pass the function that learns.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class ProcessState:
    """See the module docstring. One instance per process: :data:`STATE`."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._generation = 0
        self.reset()

    def reset(self) -> None:
        """Forget everything learned; the next use learns it again."""
        with self._lock:
            self._capabilities: dict[tuple[str, str], bool] = {}
            self._buckets_seen: set[tuple[str, str]] = set()
            self._buckets_ensured: set[tuple[str, str]] = set()
            self._built: dict[tuple[str, Hashable], object] = {}
            self._startup_done = False
            self._generation += 1

    # -- server capabilities ---------------------------------------------------------------------

    def capability(self, endpoint: str, name: str) -> bool | None:
        """What was learned about ``name`` on ``endpoint``, or None when not yet learned."""
        return self._capabilities.get((endpoint, name))

    def learn(self, endpoint: str, name: str, learn: Callable[[], bool]) -> bool:
        """The capability ``name`` of ``endpoint``: ``learn()`` runs once per process, under a lock."""
        marker = (endpoint, name)
        if marker in self._capabilities:
            return self._capabilities[marker]
        with self._lock:
            if marker not in self._capabilities:
                self._capabilities[marker] = learn()
            return self._capabilities[marker]

    def remember(self, endpoint: str, name: str, value: bool) -> None:
        """Record what an ordinary answer showed (e.g. a 501 to GetBucketPolicy): no probe needed."""
        with self._lock:
            self._capabilities[(endpoint, name)] = value

    def capabilities(self, endpoint: str) -> dict[str, bool]:
        """Everything learned so far about ``endpoint``, by capability name."""
        return {name: value for (where, name), value in self._capabilities.items() if where == endpoint}

    # -- buckets -----------------------------------------------------------------------------------

    def bucket_seen(self, endpoint: str, bucket: str) -> bool:
        return (endpoint, bucket) in self._buckets_seen

    def mark_bucket_seen(self, endpoint: str, bucket: str) -> None:
        if (endpoint, bucket) not in self._buckets_seen:
            with self._lock:
                self._buckets_seen.add((endpoint, bucket))

    def ensure_bucket_once(self, endpoint: str, bucket: str, ensure: Callable[[], object]) -> None:
        """Run ``ensure()`` for this bucket once per process (MINIO_BUCKET_CHECK_ON_SAVE)."""
        marker = (endpoint, bucket)
        if marker in self._buckets_ensured:
            return
        with self._lock:
            if marker not in self._buckets_ensured:
                ensure()
                self._buckets_ensured.add(marker)
        self.mark_bucket_seen(endpoint, bucket)

    # -- objects built once from options -----------------------------------------------------------

    def built(self, kind: str, source: Hashable, build: Callable[[], T]) -> T:
        """The object ``build()`` made for ``(kind, source)``, built once per process."""
        marker = (kind, source)
        with self._lock:
            if marker not in self._built:
                self._built[marker] = build()
            return self._built[marker]  # type: ignore[return-value]

    # -- start-up and settings ---------------------------------------------------------------------

    def first_startup(self) -> bool:
        """True the first time it is asked in this process (after a reset: again once)."""
        with self._lock:
            first, self._startup_done = not self._startup_done, True
            return first

    @property
    def generation(self) -> int:
        return self._generation

    def settings_changed(self) -> None:
        """STORAGES changed: objects built from the old settings must be built again."""
        with self._lock:
            self._generation += 1


STATE = ProcessState()


def reset() -> None:
    """Forget everything this process has learned about its servers (see the module docstring)."""
    STATE.reset()
