# braid: entry=k2mm
# braid: preset tiny NI=5 NJ=7 NK=9 NL=3
# braid: preset default NI=1000 NJ=1100 NK=1200 NL=1300
# braid: targets cpu
"""Two chained matrix multiplications, D := alpha * A @ B @ C + beta * D (PolyBench 2mm), DaCe dialect."""

import numpy as np
import dace as dc

NI = dc.symbol("NI")
NJ = dc.symbol("NJ")
NK = dc.symbol("NK")
NL = dc.symbol("NL")


@dc.program
def k2mm(
    alpha: dc.float64,
    beta: dc.float64,
    A: dc.float64[NI, NK],
    B: dc.float64[NK, NJ],
    C: dc.float64[NJ, NL],
    D: dc.float64[NI, NL],
):
    D[:] = alpha * A @ B @ C + beta * D


def initialize(NI, NJ, NK, NL):
    rng = np.random.default_rng(42)
    return {
        "alpha": 1.5,
        "beta": 1.2,
        "A": rng.random((NI, NK)),
        "B": rng.random((NK, NJ)),
        "C": rng.random((NJ, NL)),
        "D": rng.random((NI, NL)),
    }
