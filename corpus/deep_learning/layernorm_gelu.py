# braid: entry=layernorm_gelu
# braid: preset tiny B=3 T=5 C=7
# braid: preset default B=16 T=256 C=768
# braid: tolerance rtol=1e-4 atol=1e-5
# braid: why float32: mean and variance over C are summed in single precision in an order other than NumPy's pairwise one
# braid: targets cpu
"""Transformer feed-forward prologue in float32: layer normalization over the channel axis with a
learned scale and shift, then the tanh approximation of GELU, plain NumPy."""

import numpy as np


def gelu(x):
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))


#pythran export layernorm_gelu(float32[:,:,:], float32[:], float32[:])
def layernorm_gelu(x, gamma, beta):
    eps = 1e-5
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    xhat = (x - mean) / np.sqrt(var + eps)
    return gelu(gamma * xhat + beta)


def initialize(B, T, C):
    rng = np.random.default_rng(42)
    return {
        "x": (2.0 * rng.standard_normal((B, T, C)) + 0.5).astype(np.float32),
        "gamma": (1.0 + 0.1 * rng.standard_normal(C)).astype(np.float32),
        "beta": (0.1 * rng.standard_normal(C)).astype(np.float32),
    }
