# braid: entry=mlp
# braid: preset tiny N=5 C_in=7 S0=9 S1=11 S2=3
# braid: preset default N=2048 C_in=512 S0=1024 S1=512 S2=64
# braid: tolerance rtol=1e-4 atol=1e-6
# braid: why float32 matrix products of length up to 1024 accumulate in another order than NumPy's BLAS call (blocking differs), a few ulp of the dot products
# braid: targets cpu
"""Three-layer perceptron in float32: two ReLU layers and a softmax output layer."""

import numpy as np
import braid as br

N = br.symbol("N")
C_in = br.symbol("C_in")
S0 = br.symbol("S0")
S1 = br.symbol("S1")
S2 = br.symbol("S2")


def relu(x):
    return np.maximum(x, 0)


def softmax(x):
    tmp_max = np.max(x, axis=-1, keepdims=True)
    tmp_out = np.exp(x - tmp_max)
    tmp_sum = np.sum(tmp_out, axis=-1, keepdims=True)
    return tmp_out / tmp_sum


@br.program
def mlp(
    input: br.float32[N, C_in],
    w1: br.float32[C_in, S0],
    b1: br.float32[S0],
    w2: br.float32[S0, S1],
    b2: br.float32[S1],
    w3: br.float32[S1, S2],
    b3: br.float32[S2],
):
    x = relu(input @ w1 + b1)
    x = relu(x @ w2 + b2)
    x = softmax(x @ w3 + b3)
    return x


def initialize(N, C_in, S0, S1, S2):
    rng = np.random.default_rng(42)

    def layer(n_in, n_out):
        scale = np.float32(1.0 / np.sqrt(n_in))
        w = (rng.random((n_in, n_out), dtype=np.float32) - np.float32(0.5)) * scale
        b = (rng.random(n_out, dtype=np.float32) - np.float32(0.5)) * scale
        return w, b

    w1, b1 = layer(C_in, S0)
    w2, b2 = layer(S0, S1)
    w3, b3 = layer(S1, S2)
    return {
        "input": rng.random((N, C_in), dtype=np.float32),
        "w1": w1, "b1": b1, "w2": w2, "b2": b2, "w3": w3, "b3": b3,
    }
