# braid: entry=gemver
# braid: preset tiny N=13
# braid: preset default N=600
# braid: targets cpu
"""Vector multiplication and matrix addition (PolyBench gemver).

A gets two rank-1 updates, written as an explicitly parallel map; then
x += beta * A^T y + z and w += alpha * A x.
"""

import numpy as np
import braid as br

N = br.symbol("N")


@br.program
def gemver(
    alpha: br.float64,
    beta: br.float64,
    A: br.float64[N, N],
    u1: br.float64[N],
    v1: br.float64[N],
    u2: br.float64[N],
    v2: br.float64[N],
    w: br.float64[N],
    x: br.float64[N],
    y: br.float64[N],
    z: br.float64[N],
):
    for i, j in br.map[0:N, 0:N]:
        A[i, j] += u1[i] * v1[j] + u2[i] * v2[j]
    x += beta * (y @ A) + z
    w += alpha * (A @ x)


def initialize(N):
    rng = np.random.default_rng(42)
    args = {"alpha": 1.5, "beta": 1.2, "A": rng.random((N, N))}
    for name in ("u1", "v1", "u2", "v2", "w", "x", "y", "z"):
        args[name] = rng.random(N)
    return args
