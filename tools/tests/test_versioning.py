"""Loops whose bounds checks are hoisted (the version-bounds-checks pass) behave as Python
does on every side of the hoisted condition: indices in range, negative indices that wrap, and
indices past the end that raise IndexError."""

import numpy as np
import pytest

from test_numpy_surface import build_pair

SOURCE = '''
import numpy as np

#pythran export window(float64[:], int, int)
def window(x, a, b):
    s = 0.0
    for k in range(a, b):
        s += x[k] * (k + 1)
    return s

#pythran export shifted(float64[:], int)
def shifted(x, c):
    s = 0.0
    for k in range(3):
        s += x[k + c]
    return s

#pythran export csr(int32[:], int32[:], float64[:], float64[:], float64[:])
def csr(rowptr, col, val, x, y):
    for i in range(y.shape[0]):
        s = 0.0
        for k in range(rowptr[i], rowptr[i + 1]):
            s += val[k] * x[col[k]]
        y[i] = s
'''


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("versioning"), "versioning", SOURCE)


@pytest.mark.parametrize("a, b", [(0, 10), (2, 7), (-4, 3), (-10, -2), (5, 5), (7, 2)])
def test_window_matches_python(pair, a, b):
    compiled, reference = pair
    x = np.linspace(-1.0, 2.0, 10)
    assert compiled.window(x, a, b) == pytest.approx(reference.window(x, a, b), rel=1e-12)


@pytest.mark.parametrize("a, b", [(0, 11), (-11, 0), (3, 40), (2**63 - 5, 2**63 - 1), (-2**63, -2**63 + 3)])
def test_window_out_of_bounds_raises(pair, a, b):
    compiled, reference = pair
    x = np.linspace(-1.0, 2.0, 10)
    with pytest.raises(IndexError):
        reference.window(x, a, b)
    with pytest.raises(IndexError):
        compiled.window(x, a, b)


@pytest.mark.parametrize("c", [0, 7, -10, -3, 8, 2**63 - 2, -2**63, 2**62])
def test_offsets_near_the_int64_limits_raise_instead_of_wrapping(pair, c):
    # The hoisted bounds (k + c over the whole range) must not overflow into a false "in bounds".
    compiled, reference = pair
    x = np.linspace(-1.0, 2.0, 10)
    try:
        want = reference.shifted(x, c)
    except IndexError:
        with pytest.raises(IndexError):
            compiled.shifted(x, c)
    else:
        assert compiled.shifted(x, c) == pytest.approx(want, rel=1e-12)


def test_csr_rows_with_negative_and_past_the_end_pointers(pair):
    compiled, reference = pair
    rng = np.random.default_rng(3)
    val, x = rng.random(12), rng.random(6)
    col = rng.integers(0, 6, 12).astype(np.int32)
    # Row 1 starts at a negative pointer (wraps, as Python does); row 2 is empty.
    rowptr = np.array([0, 4, -3, -3, 12], dtype=np.int32)
    want, got = np.zeros(4), np.zeros(4)
    reference.csr(rowptr, col, val, x, want)
    compiled.csr(rowptr, col, val, x, got)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    bad = np.array([0, 4, 8, 13, 13], dtype=np.int32)
    with pytest.raises(IndexError):
        compiled.csr(bad, col, val, x, got)
