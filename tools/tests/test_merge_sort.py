"""The merge sort behind np.sort/np.argsort merges each pair of runs from both ends at once:
every length (odd and even, runs of unequal size), heavy ties, NaNs, -0.0/0.0 and integers must
give NumPy's stable order exactly."""

import numpy as np
import pytest

from test_numpy_surface import build_pair

SOURCE = '''
import numpy as np

#pythran export sorts(float64[:], int64[:], float64[:,:])
def sorts(x, k, A):
    return (np.sort(x), np.argsort(x, kind="stable"), np.sort(k), np.argsort(k, kind="stable"),
            np.sort(A, axis=0), np.argsort(A, axis=0, kind="stable"), np.argsort(A, axis=1, kind="stable"))
'''


@pytest.fixture(scope="module")
def sorts(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("merge_sort"), "merge_sort", SOURCE)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 33, 100, 257])
def test_every_length_with_ties_and_nans(sorts, n):
    compiled, reference = sorts
    rng = np.random.default_rng(n)
    x = rng.integers(-3, 4, n).astype(np.float64)  # few distinct values: many ties
    x[rng.random(n) < 0.2] = np.nan
    x[rng.random(n) < 0.1] = -0.0
    k = rng.integers(-2, 3, n)
    A = rng.integers(0, 3, (n, 3)).astype(np.float64)
    A[rng.random((n, 3)) < 0.15] = np.nan
    got, want = compiled.sorts(x, k, A), reference.sorts(x, k, A)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)


def test_reversed_and_sorted_input(sorts):
    compiled, reference = sorts
    for x in (np.arange(50.0)[::-1].copy(), np.arange(50.0), np.full(50, np.nan), np.repeat([2.0, 1.0], 25)):
        k = x.astype(np.int64) if not np.isnan(x).any() else np.zeros(50, dtype=np.int64)
        A = np.stack([x, x[::-1], x], axis=1)
        for g, w in zip(compiled.sorts(x, k, A), reference.sorts(x, k, A)):
            np.testing.assert_array_equal(g, w)
