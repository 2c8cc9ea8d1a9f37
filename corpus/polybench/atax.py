# braid: entry=atax
# braid: preset tiny M=11 N=7
# braid: preset default M=6000 N=6500
# braid: targets cpu
"""Matrix transpose times matrix-vector product, y = A^T (A x) (PolyBench atax), plain NumPy."""

import numpy as np


#pythran export atax(float64[:,:], float64[:])
def atax(A, x):
    tmp = A @ x
    return tmp @ A


def initialize(M, N):
    rng = np.random.default_rng(42)
    return {"A": rng.random((M, N)) - 0.5, "x": rng.random(N)}
