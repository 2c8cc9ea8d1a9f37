# braid: entry=ludcmp
# braid: preset tiny N=9
# braid: preset default N=200
# braid: targets cpu
"""LU decomposition followed by forward and back substitution (PolyBench ludcmp), plain NumPy.

Returns the solution x of A x = b and the intermediate y of L y = b; A holds L and U after.
"""

import numpy as np


#pythran export ludcmp(float64[:,:], float64[:])
def ludcmp(A, b):
    N = A.shape[0]
    x = np.zeros_like(b)
    y = np.zeros_like(b)
    for i in range(N):
        for j in range(i):
            A[i, j] -= A[i, :j] @ A[:j, j]
            A[i, j] /= A[j, j]
        for j in range(i, N):
            A[i, j] -= A[i, :i] @ A[:i, j]
    for i in range(N):
        y[i] = b[i] - A[i, :i] @ y[:i]
    for i in range(N - 1, -1, -1):
        x[i] = (y[i] - A[i, i + 1:] @ x[i + 1:]) / A[i, i]
    return x, y


def initialize(N):
    rng = np.random.default_rng(42)
    A = rng.random((N, N)) - 0.5
    A += N * np.eye(N)
    return {"A": A, "b": rng.random(N) - 0.5}
