# braid: entry=syrk
# braid: preset tiny N=9 M=5
# braid: preset default N=1200 M=1000
# braid: targets cpu
"""Symmetric rank-k update of the lower triangle, C := alpha A A^T + beta C (PolyBench syrk),
one row of the triangle per step; plain NumPy."""

import numpy as np


#pythran export syrk(float, float, float64[:,:], float64[:,:])
def syrk(alpha, beta, C, A):
    for i in range(A.shape[0]):
        C[i, :i + 1] *= beta
        C[i, :i + 1] += alpha * (A[:i + 1, :] @ A[i, :])


def initialize(N, M):
    rng = np.random.default_rng(42)
    return {"alpha": 1.5, "beta": 1.2, "C": rng.random((N, N)), "A": rng.random((N, M))}
