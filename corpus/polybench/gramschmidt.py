# braid: entry=gramschmidt
# braid: preset tiny M=9 N=7
# braid: preset default M=600 N=500
# braid: targets cpu
"""QR decomposition by modified Gram-Schmidt (PolyBench gramschmidt): A = Q R.

Column k is normalized, then removed from all later columns at once (a rank-1 update).
"""

import numpy as np
import braid as br

M = br.symbol("M")
N = br.symbol("N")


@br.program
def gramschmidt(A: br.float64[M, N]):
    Q = np.zeros_like(A)
    R = np.zeros((N, N), dtype=A.dtype)
    for k in range(N):
        nrm = np.dot(A[:, k], A[:, k])
        R[k, k] = np.sqrt(nrm)
        Q[:, k] = A[:, k] / R[k, k]
        R[k, k + 1:] = Q[:, k] @ A[:, k + 1:]
        A[:, k + 1:] -= np.outer(Q[:, k], R[k, k + 1:])
    return Q, R


def initialize(M, N):
    rng = np.random.default_rng(42)
    A = rng.random((M, N)) - 0.5
    A[:N, :] += 2.0 * np.eye(N)  # well conditioned
    return {"A": A}
