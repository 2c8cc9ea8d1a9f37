# braid: entry=lu
# braid: preset tiny N=9
# braid: preset default N=200
# braid: targets cpu
"""LU decomposition without pivoting, in place (PolyBench lu), DaCe dialect.

The strict lower triangle gets L (unit diagonal implied), the upper triangle U.
"""

import numpy as np
import dace as dc

N = dc.symbol("N")


@dc.program
def lu(A: dc.float64[N, N]):
    for i in range(N):
        for j in range(i):
            A[i, j] -= A[i, :j] @ A[:j, j]
            A[i, j] /= A[j, j]
        for j in range(i, N):
            A[i, j] -= A[i, :i] @ A[:i, j]


def initialize(N):
    rng = np.random.default_rng(42)
    A = rng.random((N, N)) - 0.5
    A += N * np.eye(N)  # diagonally dominant: no pivoting needed
    return {"A": A}
