# braid: entry=fdtd_2d
# braid: preset tiny NX=7 NY=9 TMAX=5
# braid: preset default NX=500 NY=600 TMAX=60
# braid: targets cpu
"""2-D finite-difference time-domain kernel (PolyBench fdtd-2d), plain NumPy.

Electric fields ex, ey and magnetic field hz on a staggered grid; a source row drives ey.
"""

import numpy as np


#pythran export fdtd_2d(int, float64[:,:], float64[:,:], float64[:,:], float64[:])
def fdtd_2d(TMAX, ex, ey, hz, _fict_):
    for t in range(TMAX):
        ey[0, :] = _fict_[t]
        ey[1:, :] -= 0.5 * (hz[1:, :] - hz[:-1, :])
        ex[:, 1:] -= 0.5 * (hz[:, 1:] - hz[:, :-1])
        hz[:-1, :-1] -= 0.7 * (ex[:-1, 1:] - ex[:-1, :-1] + ey[1:, :-1] - ey[:-1, :-1])


def initialize(NX, NY, TMAX):
    rng = np.random.default_rng(42)
    return {
        "TMAX": TMAX,
        "ex": rng.random((NX, NY)),
        "ey": rng.random((NX, NY)),
        "hz": rng.random((NX, NY)),
        "_fict_": np.linspace(0.0, 1.0, TMAX),
    }
