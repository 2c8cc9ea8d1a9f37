# braid: entry=vadv
# braid: preset tiny I=5 J=7 K=9
# braid: preset default I=160 J=160 K=80
# braid: targets cpu
"""Implicit vertical advection (weather-model style), DaCe dialect.

Each (i, j) column solves a tridiagonal system along K with the Thomas algorithm: a forward
sweep that eliminates the lower diagonal, then back substitution from the top level down.
The upwind face velocities come from the staggered wcon field.
"""

import numpy as np
import dace as dc

I = dc.symbol("I")
J = dc.symbol("J")
K = dc.symbol("K")

BET_M = 0.5
BET_P = 0.5


@dc.program
def vadv(
    utens_stage: dc.float64[I, J, K],
    u_stage: dc.float64[I, J, K],
    wcon: dc.float64[I + 1, J, K],
    u_pos: dc.float64[I, J, K],
    utens: dc.float64[I, J, K],
    dtr_stage: dc.float64,
):
    ccol = np.empty((I, J, K), dtype=np.float64)
    dcol = np.empty((I, J, K), dtype=np.float64)

    # Bottom level.
    gcv = 0.25 * (wcon[1:, :, 1] + wcon[:-1, :, 1])
    cs = gcv * BET_M
    bcol = dtr_stage - cs
    ccol[:, :, 0] = gcv * BET_P
    correction = -cs * (u_stage[:, :, 1] - u_stage[:, :, 0])
    dcol[:, :, 0] = dtr_stage * u_pos[:, :, 0] + utens[:, :, 0] + utens_stage[:, :, 0] + correction
    divided = 1.0 / bcol
    ccol[:, :, 0] = ccol[:, :, 0] * divided
    dcol[:, :, 0] = dcol[:, :, 0] * divided

    # Forward sweep over the interior levels.
    for k in range(1, K - 1):
        gav = -0.25 * (wcon[1:, :, k] + wcon[:-1, :, k])
        gcv = 0.25 * (wcon[1:, :, k + 1] + wcon[:-1, :, k + 1])
        as_ = gav * BET_M
        cs = gcv * BET_M
        acol = gav * BET_P
        bcol = dtr_stage - as_ - cs
        ccol[:, :, k] = gcv * BET_P
        correction = -as_ * (u_stage[:, :, k - 1] - u_stage[:, :, k]) - cs * (u_stage[:, :, k + 1] - u_stage[:, :, k])
        dcol[:, :, k] = dtr_stage * u_pos[:, :, k] + utens[:, :, k] + utens_stage[:, :, k] + correction
        divided = 1.0 / (bcol - ccol[:, :, k - 1] * acol)
        ccol[:, :, k] = ccol[:, :, k] * divided
        dcol[:, :, k] = (dcol[:, :, k] - dcol[:, :, k - 1] * acol) * divided

    # Top level.
    gav = -0.25 * (wcon[1:, :, K - 1] + wcon[:-1, :, K - 1])
    as_ = gav * BET_M
    acol = gav * BET_P
    bcol = dtr_stage - as_
    correction = -as_ * (u_stage[:, :, K - 2] - u_stage[:, :, K - 1])
    dcol[:, :, K - 1] = dtr_stage * u_pos[:, :, K - 1] + utens[:, :, K - 1] + utens_stage[:, :, K - 1] + correction
    divided = 1.0 / (bcol - ccol[:, :, K - 2] * acol)
    dcol[:, :, K - 1] = (dcol[:, :, K - 1] - dcol[:, :, K - 2] * acol) * divided

    # Back substitution.
    datacol = dcol[:, :, K - 1]
    utens_stage[:, :, K - 1] = dtr_stage * (datacol - u_pos[:, :, K - 1])
    for k in range(K - 2, -1, -1):
        datacol = dcol[:, :, k] - ccol[:, :, k] * datacol
        utens_stage[:, :, k] = dtr_stage * (datacol - u_pos[:, :, k])


def initialize(I, J, K):
    rng = np.random.default_rng(42)
    return {
        "utens_stage": rng.random((I, J, K)),
        "u_stage": rng.random((I, J, K)),
        "wcon": rng.random((I + 1, J, K)),
        "u_pos": rng.random((I, J, K)),
        "utens": rng.random((I, J, K)),
        "dtr_stage": 3.0 / 20.0,
    }
