# braid: entry=resnet_basic
# braid: preset tiny N=3 H=7 W=5 C=4
# braid: preset default N=8 H=24 W=24 C=16
# braid: tolerance rtol=1e-4 atol=1e-4
# braid: why float32: 3x3xC convolutions and batch statistics summed in single precision in another order than NumPy; batch normalization divides by a standard deviation, which amplifies the absolute error
# braid: targets cpu
"""ResNet basic block on NHWC float32 tensors, DaCe dialect.

conv 3x3 (same padding) -> batch norm -> ReLU -> conv 3x3 -> batch norm, plus the identity
shortcut, -> ReLU. Batch normalization uses the statistics of the batch (axis 0).
"""

import numpy as np
import dace as dc

N = dc.symbol("N")
H = dc.symbol("H")
W = dc.symbol("W")
C = dc.symbol("C")


def relu(x):
    return np.maximum(x, 0)


def conv2d_same(input, weights):
    padded = np.zeros((N, H + 2, W + 2, C), dtype=np.float32)
    padded[:, 1:-1, 1:-1, :] = input
    output = np.empty((N, H, W, C), dtype=np.float32)
    for i in range(H):
        for j in range(W):
            output[:, i, j, :] = np.sum(
                padded[:, i:i + 3, j:j + 3, :, np.newaxis] * weights[np.newaxis, :, :, :],
                axis=(1, 2, 3),
            )
    return output


def batchnorm2d(x, eps=1e-5):
    mean = np.mean(x, axis=0, keepdims=True)
    std = np.std(x, axis=0, keepdims=True)
    return (x - mean) / np.sqrt(std * std + eps)


@dc.program
def resnet_basic(input: dc.float32[N, H, W, C], conv1: dc.float32[3, 3, C, C], conv2: dc.float32[3, 3, C, C]):
    x = conv2d_same(input, conv1)
    x = batchnorm2d(x)
    x = relu(x)
    x = conv2d_same(x, conv2)
    x = batchnorm2d(x)
    return relu(x + input)


def initialize(N, H, W, C):
    rng = np.random.default_rng(42)
    scale = np.float32(1.0 / np.sqrt(9 * C))
    return {
        "input": rng.random((N, H, W, C), dtype=np.float32),
        "conv1": (rng.random((3, 3, C, C), dtype=np.float32) - np.float32(0.5)) * scale,
        "conv2": (rng.random((3, 3, C, C), dtype=np.float32) - np.float32(0.5)) * scale,
    }
