# braid: entry=durbin
# braid: preset tiny N=11
# braid: preset default N=10000
# braid: targets cpu
"""Levinson-Durbin recursion for a Toeplitz system (PolyBench durbin), plain NumPy.

Solves the Yule-Walker equations of autocorrelation r; step k reverses the first k entries.
"""

import numpy as np


#pythran export durbin(float64[:])
def durbin(r):
    y = np.empty_like(r)
    alpha = -r[0]
    beta = 1.0
    y[0] = -r[0]
    for k in range(1, r.shape[0]):
        beta *= 1.0 - alpha * alpha
        alpha = -(r[k] + np.dot(r[:k][::-1], y[:k])) / beta
        y[:k] += alpha * y[:k][::-1]
        y[k] = alpha
    return y


def initialize(N):
    # Autocorrelation of a stable AR process: decays geometrically, keeps |alpha| < 1.
    rng = np.random.default_rng(42)
    lags = np.arange(1, N + 1)
    return {"r": 0.5 ** lags * (1.0 + 0.1 * rng.random(N))}
