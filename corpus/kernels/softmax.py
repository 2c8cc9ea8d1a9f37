# braid: entry=softmax
# braid: preset tiny N=3 H=5 SM=7
# braid: preset default N=128 H=128 SM=512
# braid: tolerance rtol=1e-4 atol=1e-8
# braid: why float32 exp and a length-SM sum in single precision: a summation order other than NumPy's pairwise one moves results by up to about SM * 6e-8 (3e-5 at SM=512)
# braid: targets cpu
"""Numerically stable softmax over the last axis of a float32 tensor (attention scores)."""

import numpy as np
import braid as br

N = br.symbol("N")
H = br.symbol("H")
SM = br.symbol("SM")


@br.program
def softmax(x: br.float32[N, H, SM]):
    row_max = np.max(x, axis=-1, keepdims=True)
    e = np.exp(x - row_max)
    row_sum = np.sum(e, axis=-1, keepdims=True)
    return e / row_sum


def initialize(N, H, SM):
    rng = np.random.default_rng(42)
    return {"x": (4.0 * rng.standard_normal((N, H, SM))).astype(np.float32)}
