# braid: entry=syr2k
# braid: preset tiny N=7 M=5
# braid: preset default N=240 M=200
# braid: targets cpu
"""Symmetric rank-2k update of the lower triangle, C := alpha (A B^T + B A^T) + beta C
(PolyBench syr2k), DaCe dialect, in the original row-by-row, k-by-k loop order."""

import numpy as np
import dace as dc

N = dc.symbol("N")
M = dc.symbol("M")


@dc.program
def syr2k(alpha: dc.float64, beta: dc.float64, C: dc.float64[N, N], A: dc.float64[N, M], B: dc.float64[N, M]):
    for i in range(N):
        C[i, :i + 1] *= beta
        for k in range(M):
            C[i, :i + 1] += A[:i + 1, k] * alpha * B[i, k] + B[:i + 1, k] * alpha * A[i, k]


def initialize(N, M):
    rng = np.random.default_rng(42)
    return {"alpha": 1.5, "beta": 1.2, "C": rng.random((N, N)), "A": rng.random((N, M)), "B": rng.random((N, M))}
