"""The replayable stream that lets a save retry a body it cannot seek, without a server."""

import io

import pytest

from tests.support import NonSeekableStream


def test_replayable_stream_rewinds_within_its_limit_and_refuses_beyond():
    from django_minio_backend.core.plan import Replayable

    replay = Replayable(NonSeekableStream(b"0123456789", chunk=4), limit=8)
    assert replay.read(4) + replay.read(4) == b"01234567"
    assert replay.seek(0) == 0 and replay.read(100) == b"01234567" and replay.read(100) == b"89"
    assert not replay.replayable
    with pytest.raises(io.UnsupportedOperation):
        replay.seek(0)
