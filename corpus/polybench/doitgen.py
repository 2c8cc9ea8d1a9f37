# braid: entry=doitgen
# braid: preset tiny NR=5 NQ=3 NP=7
# braid: preset default NR=160 NQ=150 NP=200
# braid: targets cpu
"""Multiresolution analysis kernel (PolyBench doitgen): every (r, q) row of A times C4, in place.

The 3-D array is viewed as a stack of NR * NQ rows, multiplied by C4 in one product and
reshaped back; plain NumPy.
"""

import numpy as np


#pythran export doitgen(int, int, int, float64[:,:,:], float64[:,:])
def doitgen(NR, NQ, NP, A, C4):
    A[:] = (A.reshape(NR * NQ, NP) @ C4).reshape(NR, NQ, NP)


def initialize(NR, NQ, NP):
    rng = np.random.default_rng(42)
    return {"NR": NR, "NQ": NQ, "NP": NP, "A": rng.random((NR, NQ, NP)), "C4": rng.random((NP, NP))}
