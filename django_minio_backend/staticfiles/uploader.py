"""A bounded pool of upload workers: at most ``workers`` uploads prepared or in flight at once.

``submit()`` blocks while every slot is taken, so the memory held by prepared uploads stays
bounded by ``workers`` x one upload's buffer. ``flush()`` returns once every submitted upload
finished, and raises the first failure, naming the file. After a failure, ``submit()`` raises it
at once: nothing new is started.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

from ..errors import UploadFailed

logger = logging.getLogger("django_minio_backend")

T = TypeVar("T")


class ParallelUploader:
    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="minio-upload")
        self._slots = threading.BoundedSemaphore(workers)
        self._lock = threading.Lock()
        self._running: set[Future] = set()
        self._failure: UploadFailed | None = None

    def submit(self, name: str, prepare: Callable[[], T | None], upload: Callable[[T], None]) -> bool:
        """Take a slot, ``prepare()`` the upload in this thread, then ``upload()`` it in a worker.

        ``prepare`` returning None means there is nothing to upload. Returns whether an upload
        was started. Raises the first earlier failure instead of starting anything.
        """
        self.raise_failure()
        self._slots.acquire()
        try:
            payload = prepare()
        except BaseException:
            self._slots.release()
            raise
        if payload is None:
            self._slots.release()
            return False
        with self._lock:
            future = self._executor.submit(self._run, name, upload, payload)
            self._running.add(future)
        future.add_done_callback(self._forget)
        return True

    def _run(self, name: str, upload: Callable[[T], None], payload: T) -> None:
        try:
            upload(payload)
        except BaseException as error:
            with self._lock:
                if self._failure is None:
                    failure = UploadFailed(name, error)
                    failure.__cause__ = error
                    self._failure = failure
                else:
                    logger.error("Uploading static file %r also failed: %s", name, error)
        finally:
            close = getattr(payload, "close", None)
            if callable(close):
                close()
            self._slots.release()

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._running.discard(future)

    def raise_failure(self) -> None:
        with self._lock:
            failure = self._failure
        if failure is not None:
            raise failure

    def flush(self) -> None:
        """Wait until every submitted upload finished; raise the first failure."""
        while True:
            with self._lock:
                running = list(self._running)
            if not running:
                break
            wait(running)
        self.raise_failure()

    def close(self) -> None:
        """Wait for running uploads (without raising their failures) and stop the workers."""
        self._executor.shutdown(wait=True)
