# braid: entry=go_fast
# braid: preset tiny N=9
# braid: preset default N=2000
# braid: targets cpu
"""Add tanh-trace of a matrix to every element (the Numba quick-start example), plain NumPy:
a sequential scalar loop over the diagonal, then an elementwise broadcast."""

import numpy as np


#pythran export go_fast(float64[:,:])
def go_fast(a):
    trace = 0.0
    for i in range(a.shape[0]):
        trace += np.tanh(a[i, i])
    return a + trace


def initialize(N):
    rng = np.random.default_rng(42)
    return {"a": rng.random((N, N))}
