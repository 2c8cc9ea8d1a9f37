# braid: entry=k3mm
# braid: preset tiny NI=5 NJ=7 NK=9 NL=3 NM=11
# braid: preset default NI=800 NJ=900 NK=1000 NL=1100 NM=1200
# braid: targets cpu
"""Three matrix multiplications, G = (A @ B) @ (C @ D) (PolyBench 3mm)."""

import numpy as np
import braid as br

NI = br.symbol("NI")
NJ = br.symbol("NJ")
NK = br.symbol("NK")
NL = br.symbol("NL")
NM = br.symbol("NM")


@br.program
def k3mm(A: br.float64[NI, NK], B: br.float64[NK, NJ], C: br.float64[NJ, NM], D: br.float64[NM, NL]):
    E = A @ B
    F = C @ D
    G = E @ F
    return G


def initialize(NI, NJ, NK, NL, NM):
    rng = np.random.default_rng(42)
    return {
        "A": rng.random((NI, NK)) - 0.5,
        "B": rng.random((NK, NJ)) - 0.5,
        "C": rng.random((NJ, NM)) - 0.5,
        "D": rng.random((NM, NL)) - 0.5,
    }
