# braid: entry=cholesky
# braid: preset tiny N=9
# braid: preset default N=220
# braid: targets cpu opencl
"""Cholesky factorization A = L L^T in place, loop form (PolyBench cholesky), DaCe dialect.

Overwrites the lower triangle (diagonal included) with L; the strict upper triangle is left
as it was.
"""

import numpy as np
import dace as dc

N = dc.symbol("N")


@dc.program
def cholesky(A: dc.float64[N, N]):
    A[0, 0] = np.sqrt(A[0, 0])
    for i in range(1, N):
        for j in range(i):
            A[i, j] -= np.dot(A[i, :j], A[j, :j])
            A[i, j] /= A[j, j]
        A[i, i] -= np.dot(A[i, :i], A[i, :i])
        A[i, i] = np.sqrt(A[i, i])


def initialize(N):
    rng = np.random.default_rng(42)
    B = rng.random((N, N)) - 0.5
    return {"A": B @ B.T + N * np.eye(N)}  # symmetric positive definite
