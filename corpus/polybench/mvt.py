# braid: entry=mvt
# braid: preset tiny N=13
# braid: preset default N=3000
# braid: targets cpu
"""Two matrix-vector products, one with the transpose (PolyBench mvt), plain NumPy.

x1 += A y_1 and x2 += A^T y_2, both in place.
"""

import numpy as np


#pythran export mvt(float64[:], float64[:], float64[:], float64[:], float64[:,:])
def mvt(x1, x2, y_1, y_2, A):
    x1 += A @ y_1
    x2 += y_2 @ A


def initialize(N):
    rng = np.random.default_rng(42)
    return {
        "x1": rng.random(N),
        "x2": rng.random(N),
        "y_1": rng.random(N),
        "y_2": rng.random(N),
        "A": rng.random((N, N)) - 0.5,
    }
