# braid: entry=pic_deposit
# braid: preset tiny P=41 G=9 STEPS=3
# braid: preset default P=1000000 G=256 STEPS=5
# braid: targets cpu mpi
"""1-D particle-in-cell steps on a periodic grid, plain NumPy: deposit charge to cells with
np.add.at (repeated cells accumulate), get the field from a cumulative sum of the charge
density, gather it back at each particle's cell (integer-array indexing), push and wrap the
particles. Returns the last charge density."""

import numpy as np


#pythran export pic_deposit(float64[:], float64[:], float64[:], int, int, float)
def pic_deposit(pos, vel, charge, G, steps, dt):
    dx = 1.0 / G
    rho = np.zeros(G)
    for step in range(steps):
        cell = (pos / dx).astype(np.int64)
        rho[:] = 0.0
        np.add.at(rho, cell, charge)
        rho /= dx
        field = np.cumsum(rho - np.mean(rho)) * dx
        vel += dt * charge * field[cell]
        pos += dt * vel
        pos %= 1.0
    return rho


def initialize(P, G, STEPS):
    rng = np.random.default_rng(42)
    return {
        "pos": rng.random(P),
        "vel": 0.1 * rng.standard_normal(P),
        "charge": np.where(rng.random(P) < 0.5, -1.0, 1.0) / P,
        "G": G,
        "steps": STEPS,
        "dt": 0.01,
    }
