# braid: entry=clipping
# braid: preset tiny M=7 N=9
# braid: preset default M=2000 N=2500
# braid: targets cpu
"""Integer arithmetic on int64 arrays: clip one array to [2, 10], then a linear combination
with another (Cython tutorial's compute kernel), plain NumPy."""

import numpy as np


#pythran export clipping(int64[:,:], int64[:,:], int, int, int)
def clipping(array_1, array_2, a, b, c):
    return np.clip(array_1, 2, 10) * a + array_2 * b + c


def initialize(M, N):
    rng = np.random.default_rng(42)
    return {
        "array_1": rng.integers(0, 1000, (M, N), dtype=np.int64),
        "array_2": rng.integers(0, 1000, (M, N), dtype=np.int64),
        "a": 4,
        "b": 3,
        "c": 9,
    }
