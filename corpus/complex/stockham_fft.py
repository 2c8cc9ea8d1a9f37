# braid: entry=stockham_fft
# braid: preset tiny N=16
# braid: preset default N=1048576
# braid: tolerance rtol=1e-5 atol=1e-9
# braid: targets cpu opencl
"""Radix-2 Stockham autosort FFT of a complex128 vector whose length is a power of two, plain NumPy.

Stage by stage the vector is viewed as (2, l, m) halves; the butterflies write a (l, 2, m)
array, so the output needs no bit reversal. Agrees with np.fft.fft.
"""

import numpy as np


#pythran export stockham_fft(complex128[:])
def stockham_fft(x):
    n = x.shape[0]
    l = n // 2
    m = 1
    while l >= 1:
        w = np.exp(-1j * np.pi * np.arange(l) / l)
        xs = x.reshape(2, l, m)
        y = np.empty((l, 2, m), dtype=np.complex128)
        y[:, 0, :] = xs[0] + xs[1]
        y[:, 1, :] = (xs[0] - xs[1]) * w[:, np.newaxis]
        x = y.reshape(n)
        l //= 2
        m *= 2
    return x


def initialize(N):
    rng = np.random.default_rng(42)
    return {"x": rng.standard_normal(N) + 1j * rng.standard_normal(N)}
