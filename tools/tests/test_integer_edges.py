"""Integer operations at the edges of their types, as NumPy computes them: the most negative
value divided by -1 wraps (C would trap and end the interpreter), shift counts at or beyond the
bit width shift everything out, unsigned 64-bit values above 2**63 divide as unsigned."""

import numpy as np
import pytest

from test_numpy_surface import build_pair

SOURCE = '''
import numpy as np

#pythran export divide(int64[:], int64[:])
#pythran export divide(int32[:], int32[:])
def divide(k, d):
    return k // d, k % d, np.floor_divide(k, d), np.remainder(k, d)

#pythran export shifts(uint8[:], int64[:], int64[:])
def shifts(u, k, s):
    return k >> 70, k << s, k >> s, u << s, np.left_shift(u, 9), np.right_shift(k, 63)

#pythran export small_shifts(int8[:], uint16[:])
def small_shifts(a, b):
    return a << 3, a >> 9, b << 15, b >> 20

#pythran export unsigned_divide(uint64[:], uint64[:])
def unsigned_divide(a, b):
    return a // b, a % b
'''


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("integer_edges"), "integer_edges", SOURCE)


def check(modules, name, *args):
    compiled, reference = modules
    with np.errstate(all="ignore"):
        want = getattr(reference, name)(*[a.copy() for a in args])
    got = getattr(compiled, name)(*args)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype, (i, g.dtype, w.dtype)
        np.testing.assert_array_equal(g, w, err_msg=f"result {i}")


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_most_negative_divided_by_minus_one_wraps(modules, dtype):
    info = np.iinfo(dtype)
    k = np.array([info.min, info.min, -7, 7, info.max, 5, -5], dtype)
    d = np.array([-1, 1, 2, -2, -1, 0, 0], dtype)
    check(modules, "divide", k, d)


def test_shift_counts_beyond_the_bit_width(modules):
    u = np.array([1, 2, 255, 128], np.uint8)
    k = np.array([-5, 7, 2**62, -(2**63)], np.int64)
    s = np.array([1, 64, 65, 63], np.int64)
    check(modules, "shifts", u, k, s)
    check(modules, "shifts", u, k, np.array([0, 100, -1, 8], np.int64))


def test_small_type_shifts(modules):
    check(modules, "small_shifts", np.array([-128, -1, 1, 127, 17], np.int8),
          np.array([0, 1, 65535, 3, 40000], np.uint16))


def test_unsigned_64_bit_division(modules):
    a = np.array([2**64 - 1, 2**63 + 5, 10, 0, 7], np.uint64)
    b = np.array([3, 2**63, 3, 5, 0], np.uint64)
    check(modules, "unsigned_divide", a, b)
