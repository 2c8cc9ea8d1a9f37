# braid: entry=spectral_norm
# braid: preset tiny N=9 ITERS=4
# braid: preset default N=2000 ITERS=10
# braid: targets cpu
"""Spectral norm of the infinite matrix A[i, j] = 1 / ((i + j)(i + j + 1) / 2 + i + 1), truncated to
N x N (the Benchmarks Game problem): the matrix is built from index vectors, then power
iteration on A^T A."""

import numpy as np
import braid as br

N = br.symbol("N")


@br.program
def spectral_norm(u: br.float64[N], ITERS: br.int64):
    i = np.arange(N, dtype=np.float64)[:, np.newaxis]
    j = np.arange(N, dtype=np.float64)[np.newaxis, :]
    A = 1.0 / ((i + j) * (i + j + 1.0) / 2.0 + i + 1.0)
    v = np.empty_like(u)
    for it in range(ITERS):
        v[:] = A.T @ (A @ u)
        u[:] = A.T @ (A @ v)
    return np.sqrt(np.dot(u, v) / np.dot(v, v))


def initialize(N, ITERS):
    return {"u": np.ones(N), "ITERS": ITERS}
