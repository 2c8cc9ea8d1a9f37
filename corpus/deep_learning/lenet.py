# braid: entry=lenet
# braid: preset tiny N=3 H=21 W=23
# braid: preset default N=64 H=28 W=28
# braid: tolerance rtol=1e-4 atol=1e-5
# braid: why float32 convolutions and dense layers sum in single precision in an order other than NumPy's
# braid: targets cpu
"""LeNet-5 style classifier on NHWC float32 images, plain NumPy.

conv 5x5 (6 filters) -> ReLU -> 2x2 max pool -> conv 5x5 (16) -> ReLU -> 2x2 max pool ->
flatten -> dense 120 -> ReLU -> dense 84 -> ReLU -> dense 10.
"""

import numpy as np


def relu(x):
    return np.maximum(x, 0)


def conv2d(input, weights):
    K = weights.shape[0]
    N = input.shape[0]
    H_out = input.shape[1] - K + 1
    W_out = input.shape[2] - K + 1
    C_out = weights.shape[3]
    output = np.empty((N, H_out, W_out, C_out), dtype=np.float32)
    for i in range(H_out):
        for j in range(W_out):
            output[:, i, j, :] = np.sum(
                input[:, i:i + K, j:j + K, :, np.newaxis] * weights[np.newaxis, :, :, :],
                axis=(1, 2, 3),
            )
    return output


def maxpool2d(x):
    output = np.empty((x.shape[0], x.shape[1] // 2, x.shape[2] // 2, x.shape[3]), dtype=x.dtype)
    for i in range(x.shape[1] // 2):
        for j in range(x.shape[2] // 2):
            output[:, i, j, :] = np.max(x[:, 2 * i:2 * i + 2, 2 * j:2 * j + 2, :], axis=(1, 2))
    return output


#pythran export lenet(float32[:,:,:,:], float32[:,:,:,:], float32[:], float32[:,:,:,:], float32[:], float32[:,:], float32[:], float32[:,:], float32[:], float32[:,:], float32[:])
def lenet(input, conv1, conv1bias, conv2, conv2bias, fc1w, fc1b, fc2w, fc2b, fc3w, fc3b):
    x = relu(conv2d(input, conv1) + conv1bias)
    x = maxpool2d(x)
    x = relu(conv2d(x, conv2) + conv2bias)
    x = maxpool2d(x)
    x = np.reshape(x, (x.shape[0], -1))
    x = relu(x @ fc1w + fc1b)
    x = relu(x @ fc2w + fc2b)
    return x @ fc3w + fc3b


def initialize(N, H, W):
    rng = np.random.default_rng(42)
    C_before_fc1 = 16 * ((H - 12) // 4) * ((W - 12) // 4)

    def uniform(shape, fan_in):
        return ((rng.random(shape, dtype=np.float32) - np.float32(0.5)) * np.float32(2.0 / np.sqrt(fan_in)))

    return {
        "input": rng.random((N, H, W, 1), dtype=np.float32),
        "conv1": uniform((5, 5, 1, 6), 25),
        "conv1bias": uniform(6, 25),
        "conv2": uniform((5, 5, 6, 16), 150),
        "conv2bias": uniform(16, 150),
        "fc1w": uniform((C_before_fc1, 120), C_before_fc1),
        "fc1b": uniform(120, C_before_fc1),
        "fc2w": uniform((120, 84), 120),
        "fc2b": uniform(84, 120),
        "fc3w": uniform((84, 10), 84),
        "fc3b": uniform(10, 84),
    }
