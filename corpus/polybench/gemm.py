# braid: entry=gemm
# braid: preset tiny NI=7 NJ=9 NK=5
# braid: preset default NI=1400 NJ=1500 NK=1600
# braid: tolerance rtol=1e-5 atol=1e-8
# braid: targets cpu
"""General matrix multiply, C := alpha * A @ B + beta * C (PolyBench gemm), DaCe dialect."""

import numpy as np
import dace as dc

NI = dc.symbol("NI")
NJ = dc.symbol("NJ")
NK = dc.symbol("NK")


@dc.program
def gemm(alpha: dc.float64, beta: dc.float64, C: dc.float64[NI, NJ], A: dc.float64[NI, NK], B: dc.float64[NK, NJ]):
    C[:] = alpha * A @ B + beta * C


def initialize(NI, NJ, NK):
    rng = np.random.default_rng(42)
    return {
        "alpha": 1.5,
        "beta": 1.2,
        "C": rng.random((NI, NJ)),
        "A": rng.random((NI, NK)),
        "B": rng.random((NK, NJ)),
    }
