# braid: entry=correlation
# braid: preset tiny N=11 M=7
# braid: preset default N=1400 M=1200
# braid: targets cpu
"""Pearson correlation matrix of M variables over N observations (PolyBench correlation).

Standardizes the data in place (near-constant columns keep a unit deviation), then fills the
upper and lower triangles one column at a time.
"""

import numpy as np
import braid as br

M = br.symbol("M")
N = br.symbol("N")


@br.program
def correlation(float_n: br.float64, data: br.float64[N, M]):
    mean = np.mean(data, axis=0)
    stddev = np.std(data, axis=0)
    stddev[stddev <= 0.1] = 1.0
    data -= mean
    data /= np.sqrt(float_n) * stddev
    corr = np.eye(M, dtype=data.dtype)
    for i in range(M - 1):
        corr[i + 1:M, i] = corr[i, i + 1:M] = data[:, i] @ data[:, i + 1:M]
    return corr


def initialize(N, M):
    rng = np.random.default_rng(42)
    data = rng.random((N, M))
    data[:, 1:] += 0.5 * data[:, :-1]
    data[:, M // 2] = 0.25 + 0.01 * data[:, M // 2]  # a nearly constant column
    return {"float_n": float(N), "data": data}
