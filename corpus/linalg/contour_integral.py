# braid: entry=contour_integral
# braid: preset tiny NR=6 NM=2 NS=3 NQ=4
# braid: preset default NR=160 NM=16 NS=3 NQ=24
# braid: tolerance rtol=1e-8 atol=1e-10
# braid: targets cpu
"""Contour integral over the resolvent of a polynomial eigenvalue problem (FEAST / Sakurai-Sugiura
style, after NPBench's contour_integral), DaCe dialect.

T(z) = sum_n z**n H_n. At each quadrature point z_q on a circle, with trapezoid weight w_q, the
moments P0 = sum_q w_q T(z_q)^-1 Y and P1 = sum_q w_q z_q T(z_q)^-1 Y project the block Y onto the
eigenvectors whose eigenvalues lie inside the contour, and G = sum_q w_q T(z_q)^-1 accumulates the
resolvent itself. One complex LU solve (np.linalg.solve) and one inverse (np.linalg.inv) per point.
"""

import numpy as np
import dace as dc

NR = dc.symbol("NR")
NM = dc.symbol("NM")
NS = dc.symbol("NS")
NQ = dc.symbol("NQ")


@dc.program
def contour_integral(Ham: dc.complex128[NS, NR, NR], Y: dc.complex128[NR, NM], int_pts: dc.complex128[NQ],
                     weights: dc.complex128[NQ], P0: dc.complex128[NR, NM], P1: dc.complex128[NR, NM],
                     G: dc.complex128[NR, NR]):
    for q in range(NQ):
        z = int_pts[q]
        Tz = np.zeros((NR, NR), dtype=np.complex128)
        zn = 1.0 + 0.0j
        for n in range(NS):
            Tz += zn * Ham[n]
            zn = zn * z
        X = np.linalg.solve(Tz, Y)
        P0 += weights[q] * X
        P1 += (weights[q] * z) * X
        G += weights[q] * np.linalg.inv(Tz)


def initialize(NR, NM, NS, NQ):
    rng = np.random.default_rng(42)
    noise = [(rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(shape[-1])
             for shape in [(NS, NR, NR), (NR, NM)]]
    # T(z) = H_0 - z I + z^2 H_2 + ...: H_0 has eigenvalues spread over [-2, 2] (some inside the
    # unit circle, some outside); the higher slabs are small perturbations.
    Ham = 0.02 * noise[0]
    Ham[0] += np.diag(np.linspace(-2.0, 2.0, NR))
    if NS > 1:
        Ham[1] -= np.eye(NR)
    # Unit circle, points off the real axis (where the eigenvalues cluster), trapezoid weights of
    # (1 / 2 pi i) * closed integral dz.
    theta = 2.0 * np.pi * (np.arange(NQ) + 0.5) / NQ
    int_pts = np.exp(1j * theta)
    weights = int_pts / NQ
    return {
        "Ham": Ham,
        "Y": noise[1],
        "int_pts": int_pts,
        "weights": weights,
        "P0": np.zeros((NR, NM), dtype=np.complex128),
        "P1": np.zeros((NR, NM), dtype=np.complex128),
        "G": np.zeros((NR, NR), dtype=np.complex128),
    }
