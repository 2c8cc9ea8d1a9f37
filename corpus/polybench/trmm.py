# braid: entry=trmm
# braid: preset tiny M=7 N=9
# braid: preset default M=1000 N=1100
# braid: targets cpu
"""Triangular matrix multiply, B := alpha A^T B with A unit lower triangular (PolyBench trmm).

Row i of B is updated from the rows below it before they change.
"""

import numpy as np
import braid as br

M = br.symbol("M")
N = br.symbol("N")


@br.program
def trmm(alpha: br.float64, A: br.float64[M, M], B: br.float64[M, N]):
    for i in range(M):
        B[i, :] += A[i + 1:, i] @ B[i + 1:, :]
    B *= alpha


def initialize(M, N):
    rng = np.random.default_rng(42)
    A = rng.random((M, M)) / M
    return {"alpha": 1.5, "A": A, "B": rng.random((M, N))}
