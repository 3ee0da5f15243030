"""The bounded thread pool the async API runs the synchronous core in.

Every ``a*`` method and every ``await`` on an async file sends one blocking call here, so the event
loop only waits on a future. The pool is shared by the process, created on first use, and holds at
most ``WORKERS`` threads: more concurrent calls queue, they do not start threads. Each call runs
in a copy of the caller's contextvars, as asgiref's sync_to_async does.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")

WORKERS = 16  # set_workers() changes it; each waiting call holds one thread, not one per file
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def pool() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="minio-async")
        return _pool


def set_workers(count: int) -> None:
    """Use at most ``count`` threads from now on (the old pool finishes what it was given)."""
    global WORKERS, _pool
    if count < 1:
        raise ValueError(f"The async pool needs at least one thread, not {count}.")
    with _lock:
        WORKERS, old, _pool = count, _pool, None
    if old is not None:
        old.shutdown(wait=False)


async def run(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` in the pool; the loop is free while it runs."""
    context = contextvars.copy_context()
    call = partial(context.run, function, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(pool(), call)
