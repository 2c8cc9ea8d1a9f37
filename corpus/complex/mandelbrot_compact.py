# braid: entry=mandelbrot_compact
# braid: preset tiny xn=13 yn=9 maxiter=20
# braid: preset default xn=1000 yn=800 maxiter=100
# braid: targets cpu opencl
"""Mandelbrot set by escape time, iterating only the points that have not escaped yet.

The grid is flattened; every iteration advances the live points, records the iteration at which
each point escapes through the index array of live points, and then compacts z, c and the index
array to the points still inside the horizon (arrays that shrink inside the loop). Returns the
escape iteration of every grid point (0 for points that never escape) and how many stayed inside.
"""

import numpy as np
import braid as br


@br.program
def mandelbrot_compact(
    xmin: br.float64,
    xmax: br.float64,
    ymin: br.float64,
    ymax: br.float64,
    xn: br.int64,
    yn: br.int64,
    maxiter: br.int64,
    horizon: br.float64 = 2.0,
):
    X = np.linspace(xmin, xmax, xn)
    Y = np.linspace(ymin, ymax, yn)
    C = (X[None, :] + 1j * Y[:, None]).ravel()
    Z = np.zeros_like(C)
    live = np.arange(xn * yn)
    escaped = np.zeros(xn * yn, dtype=np.int64)
    for n in range(maxiter):
        Z = Z * Z + C
        inside = np.abs(Z) <= horizon
        escaped[live[~inside]] = n + 1
        Z = Z[inside]
        C = C[inside]
        live = live[inside]
        if live.shape[0] == 0:
            break
    return escaped.reshape(yn, xn), live.shape[0]


def initialize(xn, yn, maxiter):
    return {"xmin": -2.25, "xmax": 0.75, "ymin": -1.25, "ymax": 1.25, "xn": xn, "yn": yn, "maxiter": maxiter}
