# braid: entry=symm
# braid: preset tiny M=7 N=5
# braid: preset default M=500 N=550
# braid: targets cpu
"""Symmetric matrix multiply, C := alpha A B + beta C with A symmetric and only its lower
triangle read (PolyBench symm).

Row i of B contributes a rank-1 update to the rows above i, and the row itself gets the
diagonal term and the dot products with the rows above.
"""

import numpy as np
import braid as br

M = br.symbol("M")
N = br.symbol("N")


@br.program
def symm(alpha: br.float64, beta: br.float64, C: br.float64[M, N], A: br.float64[M, M], B: br.float64[M, N]):
    C *= beta
    for i in range(M):
        C[:i, :] += alpha * np.outer(A[i, :i], B[i, :])
        temp2 = A[i, :i] @ B[:i, :]
        C[i, :] += alpha * B[i, :] * A[i, i] + alpha * temp2


def initialize(M, N):
    rng = np.random.default_rng(42)
    A = rng.random((M, M))
    A[np.triu_indices(M, 1)] = -999.0  # the upper triangle must never be read
    return {"alpha": 1.5, "beta": 1.2, "C": rng.random((M, N)), "A": A, "B": rng.random((M, N))}
