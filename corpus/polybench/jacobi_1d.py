# braid: entry=jacobi_1d
# braid: preset tiny N=13 TSTEPS=5
# braid: preset default N=60000 TSTEPS=1000
# braid: targets cpu
"""Three-point Jacobi relaxation in 1-D, two arrays (PolyBench jacobi-1d), DaCe dialect."""

import numpy as np
import dace as dc

N = dc.symbol("N")


@dc.program
def jacobi_1d(TSTEPS: dc.int64, A: dc.float64[N], B: dc.float64[N]):
    for t in range(1, TSTEPS):
        B[1:-1] = 0.33333 * (A[:-2] + A[1:-1] + A[2:])
        A[1:-1] = 0.33333 * (B[:-2] + B[1:-1] + B[2:])


def initialize(N, TSTEPS):
    rng = np.random.default_rng(42)
    A = rng.random(N)
    return {"TSTEPS": TSTEPS, "A": A, "B": A.copy()}
