# braid: entry=nbody
# braid: preset tiny N=7 Nt=5
# braid: preset default N=200 Nt=100
# braid: targets cpu
"""Gravitational N-body simulation with leapfrog (kick-drift-kick) integration.

Pairwise separations come from broadcasting a column against its transpose; softening keeps
the self-interaction finite (it multiplies a zero separation). Returns the kinetic and
potential energy after every step.
"""

import numpy as np
import braid as br

N = br.symbol("N")


def getAcc(pos, mass, G, softening):
    x = pos[:, 0:1]
    y = pos[:, 1:2]
    z = pos[:, 2:3]
    dx = x.T - x
    dy = y.T - y
    dz = z.T - z
    inv_r3 = (dx**2 + dy**2 + dz**2 + softening**2) ** (-1.5)
    ax = G * (dx * inv_r3) @ mass
    ay = G * (dy * inv_r3) @ mass
    az = G * (dz * inv_r3) @ mass
    return np.hstack((ax, ay, az))


def getEnergy(pos, vel, mass, G):
    KE = 0.5 * np.sum(mass * vel**2)
    x = pos[:, 0:1]
    y = pos[:, 1:2]
    z = pos[:, 2:3]
    dx = x.T - x
    dy = y.T - y
    dz = z.T - z
    r = np.sqrt(dx**2 + dy**2 + dz**2)
    inv_r = np.zeros_like(r)
    inv_r[r > 0] = 1.0 / r[r > 0]
    PE = G * np.sum(np.triu(-(mass * mass.T) * inv_r, 1))
    return KE, PE


@br.program
def nbody(
    mass: br.float64[N, 1],
    pos: br.float64[N, 3],
    vel: br.float64[N, 3],
    dt: br.float64,
    G: br.float64,
    softening: br.float64,
    Nt: br.int64,
):
    # Move to the centre-of-mass frame.
    vel -= np.mean(mass * vel, axis=0) / np.mean(mass)
    acc = getAcc(pos, mass, G, softening)
    KE = np.empty(Nt + 1, dtype=np.float64)
    PE = np.empty(Nt + 1, dtype=np.float64)
    KE[0], PE[0] = getEnergy(pos, vel, mass, G)
    for i in range(Nt):
        vel += acc * dt / 2.0
        pos += vel * dt
        acc = getAcc(pos, mass, G, softening)
        vel += acc * dt / 2.0
        KE[i + 1], PE[i + 1] = getEnergy(pos, vel, mass, G)
    return KE, PE


def initialize(N, Nt):
    rng = np.random.default_rng(42)
    return {
        "mass": 20.0 * np.ones((N, 1)) / N,
        "pos": rng.standard_normal((N, 3)),
        "vel": rng.standard_normal((N, 3)),
        "dt": 0.01,
        "G": 1.0,
        "softening": 0.1,
        "Nt": Nt,
    }
