# braid: entry=gesummv
# braid: preset tiny N=11
# braid: preset default N=3000
# braid: targets cpu
"""Sum of two scaled matrix-vector products, y = alpha A x + beta B x (PolyBench gesummv), DaCe dialect."""

import numpy as np
import dace as dc

N = dc.symbol("N")


@dc.program
def gesummv(alpha: dc.float64, beta: dc.float64, A: dc.float64[N, N], B: dc.float64[N, N], x: dc.float64[N]):
    return alpha * A @ x + beta * B @ x


def initialize(N):
    rng = np.random.default_rng(42)
    return {
        "alpha": 1.5,
        "beta": 1.2,
        "A": rng.random((N, N)) - 0.5,
        "B": rng.random((N, N)) - 0.5,
        "x": rng.random(N),
    }
