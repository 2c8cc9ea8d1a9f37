# braid: entry=heat_3d
# braid: preset tiny N=7 TSTEPS=3
# braid: preset default N=70 TSTEPS=25
# braid: targets cpu
"""Explicit heat equation on a 3-D grid, 7-point stencil, two arrays (PolyBench heat-3d)."""

import numpy as np
import braid as br

N = br.symbol("N")


@br.program
def heat_3d(TSTEPS: br.int64, A: br.float64[N, N, N], B: br.float64[N, N, N]):
    for t in range(1, TSTEPS):
        B[1:-1, 1:-1, 1:-1] = (
            0.125 * (A[2:, 1:-1, 1:-1] - 2.0 * A[1:-1, 1:-1, 1:-1] + A[:-2, 1:-1, 1:-1])
            + 0.125 * (A[1:-1, 2:, 1:-1] - 2.0 * A[1:-1, 1:-1, 1:-1] + A[1:-1, :-2, 1:-1])
            + 0.125 * (A[1:-1, 1:-1, 2:] - 2.0 * A[1:-1, 1:-1, 1:-1] + A[1:-1, 1:-1, 0:-2])
            + A[1:-1, 1:-1, 1:-1]
        )
        A[1:-1, 1:-1, 1:-1] = (
            0.125 * (B[2:, 1:-1, 1:-1] - 2.0 * B[1:-1, 1:-1, 1:-1] + B[:-2, 1:-1, 1:-1])
            + 0.125 * (B[1:-1, 2:, 1:-1] - 2.0 * B[1:-1, 1:-1, 1:-1] + B[1:-1, :-2, 1:-1])
            + 0.125 * (B[1:-1, 1:-1, 2:] - 2.0 * B[1:-1, 1:-1, 1:-1] + B[1:-1, 1:-1, 0:-2])
            + B[1:-1, 1:-1, 1:-1]
        )


def initialize(N, TSTEPS):
    rng = np.random.default_rng(42)
    A = rng.random((N, N, N))
    return {"TSTEPS": TSTEPS, "A": A, "B": A.copy()}
