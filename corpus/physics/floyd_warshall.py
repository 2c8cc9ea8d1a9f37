# braid: entry=floyd_warshall
# braid: preset tiny N=9
# braid: preset default N=600
# braid: targets cpu
"""All-pairs shortest paths by Floyd-Warshall on int32 edge weights (PolyBench floyd-warshall),
DaCe dialect; each step relaxes every pair through node k at once."""

import numpy as np
import dace as dc

N = dc.symbol("N")


@dc.program
def floyd_warshall(path: dc.int32[N, N]):
    for k in range(N):
        path[:] = np.minimum(path, path[:, k, np.newaxis] + path[np.newaxis, k, :])


def initialize(N):
    rng = np.random.default_rng(42)
    path = rng.integers(1, 100, (N, N)).astype(np.int32)
    no_edge = rng.random((N, N)) < 0.7
    path[no_edge] = 999  # "infinite" distance, small enough not to overflow
    np.fill_diagonal(path, 0)
    return {"path": path}
