"""Integer temporaries held in int16 by narrow-integers give NumPy's results at the edges of
their ranges: all-255 bytes (the largest neighbour sums), signed bytes at -128, and a board
where every count from 0 to 8 occurs."""

import numpy as np
import pytest

from test_numpy_surface import build_pair

SOURCE = '''
import numpy as np

#pythran export neighbours(uint8[:,:])
def neighbours(b):
    n = (b[:-2, :-2].astype(np.int32) + b[:-2, 1:-1] + b[:-2, 2:] + b[1:-1, :-2] + b[1:-1, 2:]
         + b[2:, :-2] + b[2:, 1:-1] + b[2:, 2:])
    return ((n == 3) | ((b[1:-1, 1:-1] == 1) & (n == 2))).astype(np.uint8)

#pythran export signed(int8[:])
def signed(x):
    d = x[1:].astype(np.int32) - x[:-1] * 3
    return (d + 512) * (d > -200)
'''


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("narrow_integers"), "narrow_integers", SOURCE)


@pytest.mark.parametrize("fill", [0, 1, 255])
@pytest.mark.parametrize("shape", [(3, 3), (300, 257)])
def test_constant_boards(pair, fill, shape):
    compiled, reference = pair
    b = np.full(shape, fill, dtype=np.uint8)
    got, want = compiled.neighbours(b), reference.neighbours(b)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("shape", [(5, 7), (400, 300)])
def test_random_boards(pair, shape):
    compiled, reference = pair
    rng = np.random.default_rng(0)
    for b in (rng.integers(0, 2, shape, dtype=np.uint8), rng.integers(0, 256, shape, dtype=np.uint8)):
        np.testing.assert_array_equal(compiled.neighbours(b), reference.neighbours(b))


@pytest.mark.parametrize("n", [2, 100000])
def test_signed_bytes(pair, n):
    compiled, reference = pair
    x = np.random.default_rng(1).integers(-128, 128, n).astype(np.int8)
    x[0], x[-1] = -128, 127
    got, want = compiled.signed(x), reference.signed(x)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
