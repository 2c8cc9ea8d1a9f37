# braid: entry=covariance
# braid: preset tiny N=11 M=6
# braid: preset default N=1200 M=1000
# braid: targets cpu
"""Sample covariance of M variables over N observations (PolyBench covariance).

Centres the data in place, then builds the upper triangle row by row with dot
products and mirrors it into the lower one.
"""

import numpy as np
import braid as br

M = br.symbol("M")
N = br.symbol("N")


@br.program
def covariance(float_n: br.float64, data: br.float64[N, M]):
    mean = np.sum(data, axis=0) / float_n
    data -= mean
    cov = np.zeros((M, M), dtype=np.float64)
    for i in range(M):
        cov[i, i:M] = data[:, i] @ data[:, i:M] / (float_n - 1.0)
        cov[i:M, i] = cov[i, i:M]
    return cov


def initialize(N, M):
    rng = np.random.default_rng(42)
    data = rng.random((N, M))
    data[:, 1:] += 0.5 * data[:, :-1]  # correlate neighbouring variables
    return {"float_n": float(N), "data": data}
