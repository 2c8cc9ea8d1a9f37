# braid: entry=jacobi_2d
# braid: preset tiny N=7 M=11 TSTEPS=4
# braid: preset default N=500 M=550 TSTEPS=80
# braid: targets cpu mpi opencl hls
"""Two-array Jacobi relaxation on a 2-D grid (PolyBench jacobi-2d), DaCe dialect.

Each time step averages every interior point with its four neighbours, from A into B
and back; the boundary rows and columns stay fixed.
"""

import numpy as np
import dace as dc

N = dc.symbol("N")
M = dc.symbol("M")


@dc.program
def jacobi_2d(TSTEPS: dc.int64, A: dc.float64[N, M], B: dc.float64[N, M]):
    for t in range(TSTEPS):
        B[1:-1, 1:-1] = 0.2 * (A[1:-1, 1:-1] + A[1:-1, :-2] + A[1:-1, 2:] + A[:-2, 1:-1] + A[2:, 1:-1])
        A[1:-1, 1:-1] = 0.2 * (B[1:-1, 1:-1] + B[1:-1, :-2] + B[1:-1, 2:] + B[:-2, 1:-1] + B[2:, 1:-1])


def initialize(N, M, TSTEPS):
    rng = np.random.default_rng(42)
    A = rng.random((N, M))
    B = A.copy()
    return {"TSTEPS": TSTEPS, "A": A, "B": B}
