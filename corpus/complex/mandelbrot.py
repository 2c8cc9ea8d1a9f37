# braid: entry=mandelbrot
# braid: preset tiny xn=11 yn=9 maxiter=20
# braid: preset default xn=600 yn=500 maxiter=60
# braid: targets cpu opencl
"""Mandelbrot set by escape time on a complex grid, with boolean masks (only points still inside
the horizon are iterated). Returns the final z and the escape iteration of every point."""

import numpy as np
import braid as br


@br.program
def mandelbrot(
    xmin: br.float64,
    xmax: br.float64,
    ymin: br.float64,
    ymax: br.float64,
    xn: br.int64,
    yn: br.int64,
    maxiter: br.int64,
    horizon: br.float64 = 2.0,
):
    X = np.linspace(xmin, xmax, xn, dtype=np.float64)
    Y = np.linspace(ymin, ymax, yn, dtype=np.float64)
    C = X + Y[:, None] * 1j
    N = np.zeros(C.shape, dtype=np.int64)
    Z = np.zeros(C.shape, dtype=np.complex128)
    for n in range(maxiter):
        I = np.less(abs(Z), horizon)
        N[I] = n
        Z[I] = Z[I] ** 2 + C[I]
    N[N == maxiter - 1] = 0
    return Z, N


def initialize(xn, yn, maxiter):
    return {"xmin": -2.25, "xmax": 0.75, "ymin": -1.25, "ymax": 1.25, "xn": xn, "yn": yn, "maxiter": maxiter}
