# braid: entry=nussinov
# braid: preset tiny N=13
# braid: preset default N=90
# braid: targets cpu opencl hls
"""Nussinov RNA secondary-structure folding (PolyBench nussinov): dynamic programming over
an int32 table, filled from the last row up; bases are 0..3 and pairs sum to 3."""

import numpy as np
import braid as br

N = br.symbol("N")


def match(b1, b2):
    if b1 + b2 == 3:
        return 1
    else:
        return 0


@br.program
def nussinov(seq: br.int32[N]):
    table = np.zeros((N, N), np.int32)
    for i in range(N - 1, -1, -1):
        for j in range(i + 1, N):
            if j - 1 >= 0:
                table[i, j] = max(table[i, j], table[i, j - 1])
            if i + 1 < N:
                table[i, j] = max(table[i, j], table[i + 1, j])
            if j - 1 >= 0 and i + 1 < N:
                if i < j - 1:
                    table[i, j] = max(table[i, j], table[i + 1, j - 1] + match(seq[i], seq[j]))
                else:
                    table[i, j] = max(table[i, j], table[i + 1, j - 1])
            for k in range(i + 1, j):
                table[i, j] = max(table[i, j], table[i, k] + table[k + 1, j])
    return table


def initialize(N):
    rng = np.random.default_rng(42)
    return {"seq": rng.integers(0, 4, N).astype(np.int32)}
