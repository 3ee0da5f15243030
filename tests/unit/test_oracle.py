"""How the oracle maps free names between the storages (tests.support.shape): no server needed."""

import pytest

from tests.support import shape


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a_AbC1234.txt", (".", "a.txt")),
        ("d/g_0123456.tar.gz", ("d", "g.tar.gz")),
        ("d/g.tar_0123456.gz", ("d", "g.tar.gz")),
        ("noext_zzzzzzz", (".", "noext")),
        ("sp ace.txt", (".", "sp ace.txt")),
    ],
)
def test_shape_strips_the_random_part(name, expected):
    assert shape(name) == expected
