# braid: entry=attention
# braid: preset tiny B=3 T=5 D=7
# braid: preset default B=32 T=512 D=64
# braid: tolerance rtol=1e-4 atol=1e-6
# braid: why float32: the T-long dot products and softmax sums accumulate in single precision in another order than NumPy's batched matmul
# braid: targets cpu mpi opencl hls
"""Scaled dot-product attention with a causal mask on float32 (batch, time, head-dim) tensors:
batched Q K^T, mask the future, softmax over the keys, weight V."""

import numpy as np
import braid as br

B = br.symbol("B")
T = br.symbol("T")
D = br.symbol("D")


@br.program
def attention(Q: br.float32[B, T, D], K: br.float32[B, T, D], V: br.float32[B, T, D]):
    scores = Q @ K.transpose(0, 2, 1) / np.sqrt(np.float32(D))
    future = np.triu(np.ones((T, T), dtype=np.bool_), 1)
    scores = np.where(future, -np.inf, scores)
    scores = scores - np.max(scores, axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights /= np.sum(weights, axis=-1, keepdims=True)
    return weights @ V


def initialize(B, T, D):
    rng = np.random.default_rng(42)
    return {
        "Q": rng.standard_normal((B, T, D), dtype=np.float32),
        "K": rng.standard_normal((B, T, D), dtype=np.float32),
        "V": rng.standard_normal((B, T, D), dtype=np.float32),
    }
