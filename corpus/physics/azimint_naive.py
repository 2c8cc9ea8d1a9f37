# braid: entry=azimint_naive
# braid: preset tiny N=101 npt=7
# braid: preset default N=500000 npt=80
# braid: targets cpu opencl
"""Naive azimuthal integration: the mean of the pixel values in each radial bin, one boolean
mask per bin (the slow reference that histogram-based versions are checked against), plain NumPy.
"""

import numpy as np


#pythran export azimint_naive(float64[:], float64[:], int)
def azimint_naive(data, radius, npt):
    rmax = radius.max()
    res = np.zeros(npt, dtype=np.float64)
    for i in range(npt):
        r1 = rmax * i / npt
        r2 = rmax * (i + 1) / npt
        mask_r12 = np.logical_and((r1 <= radius), (radius < r2))
        values_r12 = data[mask_r12]
        res[i] = values_r12.mean()
    return res


def initialize(N, npt):
    rng = np.random.default_rng(42)
    radius = np.sqrt(rng.random(N))  # uniform over a disc: every bin is populated
    return {"data": np.cos(6.0 * radius) + 0.1 * rng.random(N), "radius": radius, "npt": npt}
