"""The public testing helper's checks that need no server."""

from __future__ import annotations

import pytest

from django_minio_backend.testing import (
    override_minio_storages,
)


def test_decorating_something_else_is_refused():
    with pytest.raises(TypeError, match=r"unittest\.TestCase"):
        override_minio_storages()(type("NotATest", (), {}))
