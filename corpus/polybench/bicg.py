# braid: entry=bicg
# braid: preset tiny N=11 M=7
# braid: preset default N=6000 M=6500
# braid: targets cpu mpi opencl hls
"""The two matrix-vector products of a BiCG step, s = A^T r and q = A p (PolyBench bicg)."""

import numpy as np
import braid as br

N = br.symbol("N")
M = br.symbol("M")


@br.program
def bicg(A: br.float64[N, M], p: br.float64[M], r: br.float64[N]):
    s = r @ A
    q = A @ p
    return s, q


def initialize(N, M):
    rng = np.random.default_rng(42)
    return {"A": rng.random((N, M)) - 0.5, "p": rng.random(M), "r": rng.random(N)}
