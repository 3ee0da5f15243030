"""A differential oracle: MinioBackend against Django's own FileSystemStorage.

A Hypothesis state machine runs random sequences of save (bytes, str and non-seekable streams;
same and new names; with and without max_length; replace_existing through a second storage),
open/read/seek/tell on files kept open across steps, exists, size, listdir, delete and
get_available_name on a MinioBackend (the real test server, a fresh MINIO_LOCATION per example)
and on a FileSystemStorage (a fresh temporary directory) side by side. Every observable result
must be identical, except for these documented differences:

1. Free names are random. When a name is taken, both storages pick ``<root>_<7 random
   characters><ext>``; the oracle requires the same shape and then maps one name to the other.
   (Also, not drawn here: a backslash separates segments, as Django's name validation reads it,
   where FileSystemStorage on Linux keeps it in the file name.)
2. Directories exist only while they hold a file. S3 has keys, not directories: a directory
   disappears from ``listdir()`` with its last file, and ``listdir()`` of a directory that never
   existed returns ``([], [])`` where FileSystemStorage raises FileNotFoundError; ``exists()`` of
   a directory is False (not drawn here).
3. A file open while another client replaces or deletes its object raises ObjectChangedError on
   a read that needs a new request (after ``seek()``), where a local file keeps reading the old
   inode. Reads served from the response already streaming are the old version, as locally.
   It never returns bytes of two versions (the reference for ``replace_existing=True`` is a
   FileSystemStorage that deletes the old file, then writes the new one).
4. ``get_available_name()`` with conditional writes on (the default) does not ask the server: it
   returns the validated name itself (shortened to ``max_length`` like Django's), and ``save()``
   then picks the free name atomically. FileSystemStorage checks the disk and returns a free name.

Names are drawn from a small set (with ``:``, a space, non-ASCII, no extension, two directory
levels) so that saves collide often; no file name is also a directory name, which S3 allows and
a file system does not. Failures print the minimal sequence of steps. The run is derandomized, so
every CI run executes the same examples.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import uuid
from functools import partial

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from django_minio_backend.errors import ObjectChangedError
from django_minio_backend.models import MinioBackend

from tests.support import PRIVATE, NonSeekableStream, shape

EXAMPLES = 60
STEPS = 30

FILES = ["a.txt", "b.bin", "x:y.txt", "sp ace.txt", "ü.txt", "noext", "d/a.txt", "d/g.tar.gz", "d/e/f.txt"]
DIRECTORIES = ["", "d", "d/e", "nope"]
MAX_HANDLES = 3


class ReplacingFileSystemStorage(FileSystemStorage):
    """The reference for replace_existing=True: delete the old file, then write the new one."""

    def get_available_name(self, name, max_length=None):
        return name

    def _save(self, name, content):
        self.delete(name)
        return super()._save(name, content)


def payload(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def outcome(action):
    """("ok", value) or ("error", kind): what a caller can observe of one call."""
    try:
        return ("ok", action())
    except ObjectChangedError:
        raise
    except FileNotFoundError:
        return ("error", "FileNotFoundError")
    except SuspiciousFileOperation:
        return ("error", "SuspiciousFileOperation")
    except (OSError, ValueError) as error:
        return ("error", type(error).__name__ if not isinstance(error, OSError) else "OSError")


contents = st.one_of(
    st.tuples(st.just("bytes"), st.integers(0, 2**16), st.sampled_from([0, 1, 100, 5000, 300_000, 300_000])),
    st.tuples(st.just("str"), st.text(st.characters(exclude_categories=("Cs",)), max_size=40)),
    st.tuples(st.just("stream"), st.integers(0, 2**16), st.sampled_from([0, 7, 70_000])),
)
read_ops = st.lists(
    st.one_of(
        st.tuples(st.just("read"), st.one_of(st.none(), st.integers(-1, 4), st.integers(5, 400_000))),
        st.tuples(
            st.just("seek"),
            st.one_of(st.integers(-20, 100), st.integers(262_000, 300_100)),
            st.sampled_from([0, 1, 2]),
        ),
        st.tuples(st.just("tell")),
    ),
    min_size=1,
    max_size=6,
)


def build(content):
    """A factory of fresh content objects (one for each storage) for a drawn content."""
    if content[0] == "str":
        return lambda: ContentFile(content[1])
    data = payload(content[1], content[2])
    return (lambda: ContentFile(data)) if content[0] == "bytes" else (lambda: NonSeekableStream(data))


class Oracle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.location = f"oracle-{uuid.uuid4().hex[:12]}"
        self.minio = MinioBackend(bucket_name=PRIVATE, storage_name="default", MINIO_LOCATION=self.location)
        self.minio_replacing = MinioBackend(
            bucket_name=PRIVATE, storage_name="default", MINIO_LOCATION=self.location, replace_existing=True
        )
        self.root = tempfile.mkdtemp(prefix="oracle-")
        self.empty_root = tempfile.mkdtemp(prefix="oracle-empty-")
        self.fs = FileSystemStorage(location=self.root, base_url="/media/")
        self.fs_replacing = ReplacingFileSystemStorage(location=self.root, base_url="/media/")
        self.fs_name: dict[str, str] = {}  # MinioBackend name -> FileSystemStorage name (difference 1)
        self.version: dict[str, int] = {}  # bumped on every change of a name
        self.present: dict[str, None] = {}  # names saved and not deleted, in order (deterministic)
        self.handles: list[tuple[object, object, str, int]] = []  # (minio file, fs file, name, version)

    # -- helpers --------------------------------------------------------------------------------

    def pick_name(self, data) -> str:
        """A name, often one that is open (so changes under open files happen), or saved."""
        open_names = [handle[2] for handle in self.handles]
        return data.draw(st.sampled_from([*open_names * 6, *list(self.present) * 6, *FILES]))

    def to_fs(self, name: str) -> str:
        return self.fs_name.get(name, name)

    def changed(self, name: str) -> None:
        self.version[name] = self.version.get(name, 0) + 1

    def record_save(self, requested: str, got_minio, got_fs) -> None:
        if got_minio[0] == "error" or got_fs[0] == "error":
            assert got_minio == got_fs
            return
        minio_name, fs_name = got_minio[1], got_fs[1]
        if minio_name == requested or fs_name == requested:
            assert minio_name == fs_name
        else:
            assert shape(minio_name) == shape(fs_name), (minio_name, fs_name)
            assert len(minio_name) == len(fs_name)
        self.fs_name[minio_name] = fs_name
        self.present[minio_name] = None
        self.changed(minio_name)

    # -- writes ---------------------------------------------------------------------------------

    @initialize(files=st.lists(st.tuples(st.sampled_from(FILES), contents), min_size=1, max_size=3))
    def some_files(self, files):
        for name, content in files:
            self.save(name, content, None)

    @rule(name=st.sampled_from(FILES), content=contents, max_length=st.sampled_from([None, None, 9, 14]))
    def save(self, name, content, max_length):
        make = build(content)
        got_minio = outcome(lambda: self.minio.save(name, make(), max_length=max_length))
        got_fs = outcome(lambda: self.fs.save(name, make(), max_length=max_length))
        self.record_save(name, got_minio, got_fs)

    @rule(data=st.data(), content=contents)
    def save_replacing(self, data, content):
        self._save_replacing(self.pick_name(data), content)

    def _save_replacing(self, name, content):
        make = build(content)
        got_minio = outcome(lambda: self.minio_replacing.save(name, make()))
        got_fs = outcome(lambda: self.fs_replacing.save(self.to_fs(name), make()))
        assert got_minio[0] == got_fs[0] == "ok", (got_minio, got_fs)
        assert got_minio[1] == name
        self.fs_name.setdefault(name, got_fs[1])
        self.present[name] = None
        self.changed(name)

    @precondition(lambda self: self.handles)
    @rule(data=st.data(), content=contents, delete=st.booleans(), ops=read_ops)
    def another_client_changes_an_open_file(self, data, content, delete, ops):
        index = data.draw(st.integers(0, len(self.handles) - 1))
        name = self.handles[index][2]
        if delete:
            self._delete(name)
        else:
            self._save_replacing(name, content)
        self._read(index, ops)

    @rule(data=st.data())
    def delete(self, data):
        self._delete(self.pick_name(data))

    def _delete(self, name):
        assert outcome(lambda: self.minio.delete(name)) == outcome(lambda: self.fs.delete(self.to_fs(name)))
        self.present.pop(name, None)
        self.changed(name)

    # -- reads ----------------------------------------------------------------------------------

    @rule(data=st.data())
    def exists_and_size(self, data):
        name = self.pick_name(data)
        fs_name = self.to_fs(name)
        assert self.minio.exists(name) == self.fs.exists(fs_name)
        assert outcome(lambda: self.minio.size(name)) == outcome(lambda: self.fs.size(fs_name))

    @rule(path=st.sampled_from(DIRECTORIES))
    def listdir(self, path):
        minio_dirs, minio_files = self.minio.listdir(path)
        got_fs = outcome(lambda: self.fs.listdir(path))
        if got_fs == ("error", "FileNotFoundError"):  # difference 2
            got_fs = ("ok", ([], []))
        fs_dirs, fs_files = got_fs[1]
        prefix = f"{path}/" if path else ""
        fs_to_minio = {fs: minio for minio, fs in self.fs_name.items()}
        fs_files = [fs_to_minio.get(prefix + f, prefix + f)[len(prefix) :] for f in fs_files]
        fs_dirs = [d for d in fs_dirs if self._holds_a_file(prefix + d)]  # difference 2
        assert (sorted(minio_dirs), sorted(minio_files)) == (sorted(fs_dirs), sorted(fs_files))

    def _holds_a_file(self, directory: str) -> bool:
        dirs, files = self.fs.listdir(directory)
        return bool(files) or any(self._holds_a_file(f"{directory}/{d}") for d in dirs)

    @rule(name=st.sampled_from(FILES), max_length=st.sampled_from([None, 9, 14]))
    def get_available_name(self, name, max_length):
        got_minio = outcome(lambda: self.minio.get_available_name(name, max_length=max_length))
        got_fs = outcome(lambda: self.fs.get_available_name(name, max_length=max_length))
        if self.minio.store.conditional_puts() and self.fs.exists(name):
            # difference 4: the first candidate, without asking the server
            empty = FileSystemStorage(location=self.empty_root)
            got_fs = outcome(lambda: empty.get_available_name(name, max_length=max_length))
        if got_minio[0] == "ok" and got_fs[0] == "ok" and got_minio[1] != name:
            assert shape(got_minio[1]) == shape(got_fs[1]) and len(got_minio[1]) == len(got_fs[1])
        else:
            assert got_minio == got_fs

    @rule(data=st.data(), ops=read_ops, keep=st.booleans())
    def open_and_read(self, data, ops, keep):
        name = self.pick_name(data)
        got_minio = outcome(lambda: self.minio.open(name, "rb"))
        got_fs = outcome(lambda: self.fs.open(self.to_fs(name), "rb"))
        assert got_minio[0] == got_fs[0], (got_minio, got_fs)
        if got_minio[0] == "ok":
            assert got_minio[1].size == got_fs[1].size
            self.handles.append((got_minio[1], got_fs[1], name, self.version.get(name, 0)))
            self._read(len(self.handles) - 1, ops)
            if len(self.handles) > MAX_HANDLES or not keep:
                self._close(len(self.handles) - 1)

    @precondition(lambda self: self.handles)
    @rule(data=st.data(), ops=read_ops)
    def read_open_file(self, data, ops):
        self._read(data.draw(st.integers(0, len(self.handles) - 1)), ops)

    def _read(self, index, ops):
        minio_file, fs_file, name, version = self.handles[index]
        for op in ops:
            try:
                got_minio = outcome(partial(self._apply, minio_file, op))
            except ObjectChangedError:
                assert self.version.get(name, 0) != version, f"{name} did not change, yet {op} raised"
                self._close(index)  # difference 3
                return
            assert got_minio == outcome(partial(self._apply, fs_file, op)), op

    @staticmethod
    def _apply(handle, op):
        if op[0] == "read":
            return handle.read(op[1]) if op[1] is not None else handle.read()
        if op[0] == "seek":
            return handle.seek(op[1], op[2])
        return handle.tell()

    @precondition(lambda self: self.handles)
    @rule(data=st.data())
    def close(self, data):
        self._close(data.draw(st.integers(0, len(self.handles) - 1)))

    def _close(self, index: int) -> None:
        minio_file, fs_file, _, _ = self.handles.pop(index)
        minio_file.close()
        fs_file.close()

    def teardown(self) -> None:
        while self.handles:
            self._close(0)
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.empty_root, ignore_errors=True)
        client = self.minio.client
        for item in client.list_objects(bucket_name=PRIVATE, prefix=f"{self.location}/", recursive=True):
            client.remove_object(bucket_name=PRIVATE, object_name=item.object_name)


def test_minio_backend_behaves_like_file_system_storage(minio_settings):
    run_state_machine_as_test(
        Oracle,
        settings=settings(
            derandomize=True,
            database=None,
            deadline=None,
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
