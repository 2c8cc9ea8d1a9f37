# braid: entry=spmv
# braid: preset tiny N=9 M=13 K=3
# braid: preset default N=50000 M=40000 K=8
# braid: targets cpu
"""Sparse matrix (CSR) times dense vector, y = A x, with explicit loops; plain NumPy.

Row i of A holds val[rowptr[i]:rowptr[i + 1]] at columns col[rowptr[i]:rowptr[i + 1]];
n is the number of rows (the length of y).
"""

import numpy as np


#pythran export spmv(int, int32[:], int32[:], float64[:], float64[:], float64[:])
def spmv(n, rowptr, col, val, x, y):
    for i in range(n):
        s = 0.0
        for k in range(rowptr[i], rowptr[i + 1]):
            s += val[k] * x[col[k]]
        y[i] = s


def initialize(N, M, K):
    """N x M matrix with 0 to 2K nonzeros per row (some rows empty), random columns."""
    rng = np.random.default_rng(42)
    counts = rng.integers(0, 2 * K + 1, N)
    counts[N // 2] = 0  # at least one empty row
    rowptr = np.zeros(N + 1, dtype=np.int32)
    rowptr[1:] = np.cumsum(counts)
    nnz = int(rowptr[-1])
    return {
        "n": N,
        "rowptr": rowptr,
        "col": rng.integers(0, M, nnz).astype(np.int32),
        "val": rng.random(nnz) - 0.5,
        "x": rng.random(M),
        "y": np.zeros(N),
    }
