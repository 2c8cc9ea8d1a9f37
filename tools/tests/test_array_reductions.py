"""Scatter-adds into arrays (`hist[b] += w`, `np.add.at`) run in parallel as array reductions:
per-thread copies of the array summed at the end. Results match NumPy's (sums of floats in
another order: rtol 1e-12 on these sizes; integer counts exactly), with few and many bins (above
the per-thread copy limit the loop runs on one thread), and an index out of bounds still raises
IndexError with Python's partial state."""

import numpy as np
import pytest

from test_numpy_surface import build_pair

SOURCE = '''
import numpy as np

#pythran export histogram(float64[:], float64[:], float, float, float64[:])
def histogram(values, weights, lo, hi, hist):
    outside = 0
    scale = hist.shape[0] / (hi - lo)
    for i in range(values.shape[0]):
        v = values[i]
        if v >= lo and v < hi:
            b = int((v - lo) * scale)
            hist[b] += weights[i]
        else:
            outside += 1
    return outside

#pythran export counts(int64[:], int64[:])
def counts(keys, table):
    for i in range(keys.shape[0]):
        table[keys[i]] += 1

#pythran export add_at(float64[:], int64[:], float64[:])
def add_at(rho, cell, charge):
    np.add.at(rho, cell, charge)
    return rho * 2.0
'''


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("array_reductions"), "array_reductions", SOURCE)


def rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("n, bins", [(0, 8), (5, 8), (200000, 64), (200000, 5000), (50000, 100000)])
def test_histogram(pair, n, bins):
    compiled, reference = pair
    values, weights = 1.8 * rng().standard_normal(n), rng(1).random(n)
    h1, h2 = np.zeros(bins), np.zeros(bins)
    o1 = compiled.histogram(values, weights, -3.0, 3.0, h1)
    o2 = reference.histogram(values, weights, -3.0, 3.0, h2)
    assert o1 == o2
    np.testing.assert_allclose(h1, h2, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n, size", [(7, 3), (300000, 16), (300000, 40000)])
def test_integer_counts_are_exact(pair, n, size):
    compiled, reference = pair
    keys = rng(2).integers(-size, size, n)
    t1, t2 = np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int64)
    compiled.counts(keys, t1)
    reference.counts(keys, t2)
    np.testing.assert_array_equal(t1, t2)


@pytest.mark.parametrize("n", [9, 300000])
def test_counts_out_of_bounds_keeps_pythons_state(pair, n):
    compiled, reference = pair
    keys = rng(3).integers(0, 16, n)
    keys[n // 3] = 16
    t1, t2 = np.full(16, 5, dtype=np.int64), np.full(16, 5, dtype=np.int64)
    with pytest.raises(IndexError):
        compiled.counts(keys, t1)
    with pytest.raises(IndexError):
        reference.counts(keys, t2)
    np.testing.assert_array_equal(t1, t2)


@pytest.mark.parametrize("n, g", [(10, 4), (400000, 256)])
def test_add_at(pair, n, g):
    compiled, reference = pair
    cell, charge = rng(4).integers(0, g, n), rng(5).standard_normal(n)
    r1, r2 = np.zeros(g), np.zeros(g)
    out1, out2 = compiled.add_at(r1, cell, charge), reference.add_at(r2, cell, charge)
    np.testing.assert_allclose(r1, r2, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out1, out2, rtol=1e-12, atol=1e-12)
