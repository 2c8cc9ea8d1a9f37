# braid: entry=seidel_2d
# braid: preset tiny N=9 TSTEPS=4
# braid: preset default N=120 TSTEPS=12
# braid: targets cpu
"""Gauss-Seidel sweeps of a 9-point stencil (PolyBench seidel-2d), DaCe dialect.

The part of each row that depends only on the previous and next rows is vectorized; the
left-to-right dependence inside the row stays a loop.
"""

import numpy as np
import dace as dc

N = dc.symbol("N")


@dc.program
def seidel_2d(TSTEPS: dc.int64, A: dc.float64[N, N]):
    for t in range(0, TSTEPS - 1):
        for i in range(1, N - 1):
            A[i, 1:-1] += (
                A[i - 1, :-2] + A[i - 1, 1:-1] + A[i - 1, 2:] + A[i, 2:] + A[i + 1, :-2] + A[i + 1, 1:-1] + A[i + 1, 2:]
            )
            for j in range(1, N - 1):
                A[i, j] += A[i, j - 1]
                A[i, j] /= 9.0


def initialize(N, TSTEPS):
    rng = np.random.default_rng(42)
    return {"TSTEPS": TSTEPS, "A": rng.random((N, N))}
