# braid: entry=hdiff
# braid: preset tiny I=5 J=7 K=3
# braid: preset default I=256 J=224 K=64
# braid: targets cpu
"""Horizontal diffusion with flux limiting on a 3-D field (weather-model style), DaCe dialect.

The input carries a halo of two points on each side of the horizontal axes; the
vertical axis K is independent columns.
"""

import numpy as np
import dace as dc

I = dc.symbol("I")
J = dc.symbol("J")
K = dc.symbol("K")


@dc.program
def hdiff(in_field: dc.float64[I + 4, J + 4, K], out_field: dc.float64[I, J, K], coeff: dc.float64[I, J, K]):
    # Five-point Laplacian on the (I + 2) x (J + 2) points inside the outer halo ring.
    lap = 4.0 * in_field[1:I + 3, 1:J + 3, :] - (
        in_field[2:I + 4, 1:J + 3, :]
        + in_field[0:I + 2, 1:J + 3, :]
        + in_field[1:I + 3, 2:J + 4, :]
        + in_field[1:I + 3, 0:J + 2, :]
    )
    # Fluxes across the faces along I; a flux that would steepen the gradient is dropped.
    dlap_i = lap[1:I + 2, 1:J + 1, :] - lap[0:I + 1, 1:J + 1, :]
    grad_i = in_field[2:I + 3, 2:J + 2, :] - in_field[1:I + 2, 2:J + 2, :]
    flux_i = np.where(dlap_i * grad_i > 0.0, 0.0, dlap_i)
    # The same along J.
    dlap_j = lap[1:I + 1, 1:J + 2, :] - lap[1:I + 1, 0:J + 1, :]
    grad_j = in_field[2:I + 2, 2:J + 3, :] - in_field[2:I + 2, 1:J + 2, :]
    flux_j = np.where(dlap_j * grad_j > 0.0, 0.0, dlap_j)
    out_field[:, :, :] = in_field[2:I + 2, 2:J + 2, :] - coeff * (
        flux_i[1:I + 1, :, :] - flux_i[0:I, :, :] + flux_j[:, 1:J + 1, :] - flux_j[:, 0:J, :]
    )


def initialize(I, J, K):
    rng = np.random.default_rng(42)
    return {
        "in_field": rng.random((I + 4, J + 4, K)),
        "out_field": np.zeros((I, J, K)),
        "coeff": 0.025 * rng.random((I, J, K)),
    }
