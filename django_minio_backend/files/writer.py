"""Write mode: the file object ``storage.open(name, "wb")`` (or ``"w"``) returns.

The first part (5 MiB; MINIO_MULTIPART_PART_SIZE when MINIO_MULTIPART_UPLOAD is on) is kept in
memory. A file closed within it is stored with one PUT. Past it, a background thread starts the
I/O core's multipart upload (``ObjectStore.put`` with an unknown length), reading from a bounded
pipe the caller's writes fill, so parts go out while the caller writes. Either way the object
becomes visible only when the file is closed: the single PUT, or CompleteMultipartUpload.

If the ``with`` block raises, or ``abort()`` is called, or the file is garbage-collected without
having been closed, nothing is stored: the first part is dropped, or the pipe fails the stream
and the core aborts its multipart upload. A discarded file never completes an upload.

Memory: the first part, then the pipe (2 MiB) and one part buffer per part in flight in the core
(``num_parallel_uploads``; tests/server/test_writer.py bounds the peak RSS of a 100 MiB write).
"""

from __future__ import annotations

import codecs
import dataclasses
import io
import threading
from collections import deque
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from ..conf.validators import MIN_PART_SIZE
from ..core.plan import UploadPlan
from ..core.store import ObjectStore

CHUNK = 1024 * 1024  # the pipe's unit; larger writes are cut into chunks of this size
PIPE_LIMIT = 2 * CHUNK
WRITE_MODES = frozenset({"w", "wb", "wt"})


def is_write_mode(mode: str) -> bool:
    """True for the modes write mode serves; other writing modes are refused by the storage."""
    return mode in WRITE_MODES


class WriteAborted(Exception):
    """The writer was aborted: the upload reading from it must stop without completing."""


class _Pipe:
    """A thread-safe byte pipe holding at most about ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._eof = False
        self._aborted = False
        self._reader_gone = False
        self._cond = threading.Condition()

    def put(self, chunk: bytes) -> bool:
        """Queue ``chunk``; block while the pipe is full. False if the reader has stopped."""
        with self._cond:
            while self._size >= self._limit and not self._reader_gone:
                self._cond.wait()
            if self._reader_gone:
                return False
            self._chunks.append(chunk)
            self._size += len(chunk)
            self._cond.notify_all()
            return True

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all when negative); short only at the end. Raises WriteAborted."""
        with self._cond:
            while not self._aborted and not self._eof and (size < 0 or self._size < size):
                self._cond.wait()
            if self._aborted:
                raise WriteAborted("the file was aborted before it was closed")
            taken = self._take(self._size if size < 0 else min(size, self._size))
            self._cond.notify_all()
        return taken

    def _take(self, size: int) -> bytes:
        parts, wanted = [], size
        while wanted:
            chunk = self._chunks.popleft()
            if len(chunk) > wanted:
                chunk, rest = chunk[:wanted], chunk[wanted:]
                self._chunks.appendleft(rest)
            parts.append(chunk)
            wanted -= len(chunk)
        self._size -= size
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def finish(self) -> None:
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    def abort(self) -> None:
        with self._cond:
            self._aborted = True
            self._cond.notify_all()

    def reader_gone(self) -> None:
        with self._cond:
            self._reader_gone = True
            self._cond.notify_all()


class _Transfer:
    """The background multipart upload. Holds no reference to the writer, so it can be collected."""

    def __init__(self, store: ObjectStore, plan: UploadPlan) -> None:
        self.pipe = _Pipe(limit=PIPE_LIMIT)
        self.error: BaseException | None = None
        self._store = store
        self._plan = dataclasses.replace(plan, source=self.pipe, start=None, length=-1, single=False)
        self._thread = threading.Thread(target=self._run, name=f"minio-writer {plan.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._store.put(self._plan.name, self._plan)
        except BaseException as error:  # handed to the writing thread by close() or write()
            self.error = error
        finally:
            self.pipe.reader_gone()

    def wait(self) -> None:
        self._thread.join()


def open_writer(
    store: ObjectStore,
    plan: UploadPlan,
    *,
    mode: str,
    encoding: str | None = None,
    errors: str | None = None,
    on_close: Callable[[], None] | None = None,
) -> ObjectWriter:
    """A writer for ``plan.name``; ``plan`` (from plan.plan_upload) gives its headers and metadata."""
    store.key(plan.name)  # a bad name fails here, before anything is buffered
    part_size = plan.part_size if store.options.multipart_upload else MIN_PART_SIZE
    plan = dataclasses.replace(plan, part_size=part_size)
    return ObjectWriter(store, plan, mode=mode, encoding=encoding, errors=errors, on_close=on_close)


class ObjectWriter:
    """A write-only file streaming to one object; the object appears when ``close()`` returns.

    Binary for mode "wb"; for "w"/"wt", ``write`` takes str, encoded with ``encoding``
    (UTF-8 by default). Use it in a ``with`` block: an exception inside the block aborts the
    upload instead of completing it.
    """

    def __init__(
        self,
        store: ObjectStore,
        plan: UploadPlan,
        *,
        mode: str,
        encoding: str | None = None,
        errors: str | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.name = plan.name
        self.mode = mode
        if "b" in mode and (encoding or errors):
            raise ValueError(
                f"binary mode {mode!r} takes no encoding or errors argument (file {self.name!r})"
            )
        self.encoding = None if "b" in mode else (encoding or "utf-8")
        self._encoder = (
            None if "b" in mode else codecs.getincrementalencoder(self.encoding)(errors or "strict")
        )
        self._store, self._plan, self._on_close = store, plan, on_close
        self._head: bytearray | None = bytearray()  # the first part, until the transfer starts
        self._transfer: _Transfer | None = None
        self._position = 0
        self._state = "open"  # open -> closed | aborted

    # -- file protocol ---------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._state != "open"

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        """Bytes written so far (encoded bytes in text mode)."""
        return self._position

    def flush(self) -> None:
        self._check_open()

    def write(self, data: Any) -> int:
        self._check_open()
        if self._encoder is not None:
            if not isinstance(data, str):
                raise TypeError(f"write() argument must be str in text mode, not {type(data).__name__}")
            self._send(self._encoder.encode(data))
            return len(data)
        if isinstance(data, str):
            raise TypeError(f"a bytes-like object is required in mode {self.mode!r}, not 'str'")
        view = memoryview(data).cast("B")
        self._send(view)
        return len(view)

    def writelines(self, lines: Iterable[Any]) -> None:
        for line in lines:
            self.write(line)

    def _send(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        if self._head is not None:
            room = self._plan.part_size - len(self._head)
            self._head += view[:room]
            self._position += min(room, len(view))
            view = view[room:]
            if not view and len(self._head) <= self._plan.part_size:
                return
            self._start_transfer()
        for start in range(0, len(view), CHUNK):
            self._put(bytes(view[start : start + CHUNK]))
            self._position += min(CHUNK, len(view) - start)

    def _start_transfer(self) -> None:
        head, self._head = self._head, None
        self._transfer = _Transfer(self._store, self._plan)
        view = memoryview(head)
        for start in range(0, len(view), CHUNK):
            self._put(bytes(view[start : start + CHUNK]))
        view.release()

    def _put(self, chunk: bytes) -> None:
        transfer = self._transfer
        if transfer is not None and not transfer.pipe.put(chunk):
            transfer.wait()
            self._state = "aborted"
            error = transfer.error
            raise OSError(f"writing {self.name!r} failed: {error}") from error

    def close(self) -> None:
        """Finish the upload: the object is stored when this returns. Raises if the upload failed."""
        if self.closed:
            return
        if self._encoder is not None:
            tail = self._encoder.encode("", final=True)
            if tail:
                self._send(tail)
        self._state = "closed"
        if self._head is not None:
            head, self._head = bytes(self._head), None
            plan = dataclasses.replace(
                self._plan, source=io.BytesIO(head), start=0, length=len(head), single=True
            )
            self._store.put(self.name, plan)
        else:
            transfer = self._transfer
            assert transfer is not None
            transfer.pipe.finish()
            transfer.wait()
            if transfer.error is not None:
                raise transfer.error
        if self._on_close is not None:
            self._on_close()

    def abort(self) -> None:
        """Drop what was written; nothing is stored (a started multipart upload is aborted)."""
        if self.closed:
            return
        self._state = "aborted"
        self._head = None
        if self._transfer is not None:
            self._transfer.pipe.abort()
            self._transfer.wait()

    def __enter__(self) -> ObjectWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        # Never complete an upload nobody closed: abort it, without waiting for the thread.
        if getattr(self, "_state", None) == "open":
            self._state = "aborted"
            if self._transfer is not None:
                self._transfer.pipe.abort()

    def __repr__(self) -> str:
        return f"<ObjectWriter {self.name!r} mode={self.mode!r} {self._state}>"

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError(f"I/O operation on closed file {self.name!r}.")
