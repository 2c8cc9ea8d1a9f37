# braid: entry=scattering_self_energies
# braid: preset tiny Nkz=3 NE=5 Nqz=3 Nw=3 N3D=2 NA=3 NB=2 Norb=3
# braid: preset default Nkz=3 NE=8 Nqz=3 Nw=3 N3D=3 NA=4 NB=4 Norb=6
# braid: targets cpu
"""Scattering self-energies of electron-phonon coupling (quantum transport simulation style):
an eight-deep loop nest of small complex matrix products over atoms, neighbours, momenta,
energies and phonon frequencies, with an indirect neighbour index; DaCe dialect."""

import numpy as np
import dace as dc

Nkz = dc.symbol("Nkz")
NE = dc.symbol("NE")
Nqz = dc.symbol("Nqz")
Nw = dc.symbol("Nw")
N3D = dc.symbol("N3D")
NA = dc.symbol("NA")
NB = dc.symbol("NB")
Norb = dc.symbol("Norb")


@dc.program
def scattering_self_energies(
    neigh_idx: dc.int32[NA, NB],
    dH: dc.complex128[NA, NB, N3D, Norb, Norb],
    G: dc.complex128[Nkz, NE, NA, Norb, Norb],
    D: dc.complex128[Nqz, Nw, NA, NB, N3D, N3D],
    Sigma: dc.complex128[Nkz, NE, NA, Norb, Norb],
):
    for k in range(Nkz):
        for E in range(NE):
            for q in range(Nqz):
                for w in range(Nw):
                    for i in range(N3D):
                        for j in range(N3D):
                            for a in range(NA):
                                for b in range(NB):
                                    if E - w >= 0:
                                        dHG = G[k, E - w, neigh_idx[a, b]] @ dH[a, b, i]
                                        dHD = dH[a, b, j] * D[q, w, a, b, i, j]
                                        Sigma[k, E, a] += dHG @ dHD


def initialize(Nkz, NE, Nqz, Nw, N3D, NA, NB, Norb):
    rng = np.random.default_rng(42)

    def crandn(shape):
        return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)

    return {
        "neigh_idx": rng.integers(0, NA, (NA, NB)).astype(np.int32),
        "dH": crandn((NA, NB, N3D, Norb, Norb)),
        "G": crandn((Nkz, NE, NA, Norb, Norb)),
        "D": crandn((Nqz, Nw, NA, NB, N3D, N3D)),
        "Sigma": np.zeros((Nkz, NE, NA, Norb, Norb), dtype=np.complex128),
    }
