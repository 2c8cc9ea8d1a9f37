# braid: entry=conv2d_bias
# braid: preset tiny N=3 H=9 W=7 C_in=3 C_out=5 K=3
# braid: preset default N=16 H=40 W=40 C_in=3 C_out=16 K=5
# braid: tolerance rtol=1e-4 atol=1e-5
# braid: why float32: each output sums K * K * C_in products in single precision, and a summation order other than NumPy's moves results by a few ulp of the largest partial sum
# braid: targets cpu
"""2-D convolution (valid padding, stride 1) plus bias on NHWC float32 tensors, DaCe dialect.

Each output pixel multiplies a K x K x C_in window by all C_out filters at once through
broadcasting and sums over the window axes.
"""

import numpy as np
import dace as dc

N = dc.symbol("N")
H = dc.symbol("H")
W = dc.symbol("W")
C_in = dc.symbol("C_in")
C_out = dc.symbol("C_out")
K = dc.symbol("K")


def conv2d(input, weights):
    H_out = input.shape[1] - K + 1
    W_out = input.shape[2] - K + 1
    output = np.empty((N, H_out, W_out, C_out), dtype=np.float32)
    for i in range(H_out):
        for j in range(W_out):
            output[:, i, j, :] = np.sum(
                input[:, i:i + K, j:j + K, :, np.newaxis] * weights[np.newaxis, :, :, :],
                axis=(1, 2, 3),
            )
    return output


@dc.program
def conv2d_bias(input: dc.float32[N, H, W, C_in], weights: dc.float32[K, K, C_in, C_out], bias: dc.float32[C_out]):
    return conv2d(input, weights) + bias


def initialize(N, H, W, C_in, C_out, K):
    rng = np.random.default_rng(42)
    return {
        "input": rng.random((N, H, W, C_in), dtype=np.float32),
        "weights": rng.random((K, K, C_in, C_out), dtype=np.float32) - 0.5,
        "bias": rng.random(C_out, dtype=np.float32),
    }
