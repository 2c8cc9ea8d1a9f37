# braid: entry=histogram
# braid: preset tiny N=31 B=7
# braid: preset default N=400000 B=64
# braid: targets cpu
"""Weighted histogram by scatter-add with explicit loops (data-dependent write index), DaCe dialect.

Values in [lo, hi) fall into B equal bins; values outside are counted separately. Returns the
per-bin weight sums and the number of values that fell outside.
"""

import numpy as np
import dace as dc

N = dc.symbol("N")
B = dc.symbol("B")


@dc.program
def histogram(values: dc.float64[N], weights: dc.float64[N], lo: dc.float64, hi: dc.float64, hist: dc.float64[B]):
    outside = 0
    scale = B / (hi - lo)
    for i in range(N):
        v = values[i]
        if v >= lo and v < hi:
            b = int((v - lo) * scale)
            hist[b] += weights[i]
        else:
            outside += 1
    return outside


def initialize(N, B):
    rng = np.random.default_rng(42)
    return {
        "values": 1.8 * rng.standard_normal(N),
        "weights": rng.random(N),
        "lo": -3.0,
        "hi": 3.0,
        "hist": np.zeros(B),
    }
