# braid: entry=trisolv
# braid: preset tiny N=13
# braid: preset default N=4000
# braid: targets cpu
"""Forward substitution for a lower triangular system L x = b (PolyBench trisolv)."""

import numpy as np
import braid

N = braid.symbol("N")


@braid.program
def trisolv(L: braid.float64[N, N], x: braid.float64[N], b: braid.float64[N]):
    for i in range(N):
        x[i] = (b[i] - L[i, :i] @ x[:i]) / L[i, i]


def initialize(N):
    rng = np.random.default_rng(42)
    L = np.tril(rng.random((N, N)) - 0.5) * (2.0 / N)
    L[np.arange(N), np.arange(N)] = 1.0 + rng.random(N)  # well conditioned: dominant diagonal
    return {"L": L, "x": np.zeros(N), "b": rng.random(N) - 0.5}
