# braid: entry=channel_flow
# braid: preset tiny nx=9 ny=7 nit=5
# braid: preset default nx=21 ny=21 nit=20
# braid: targets cpu
"""Channel flow: 2-D Navier-Stokes with periodic boundaries in x and a constant driving force F,
marched until the mean velocity settles (a `while` convergence loop).

Helper functions build the Poisson source term and relax the pressure, both with the periodic
wrap-around written out for the first and last columns. Returns the number of steps taken.
"""

import numpy as np
import braid as br

nx = br.symbol("nx")
ny = br.symbol("ny")


def build_up_b(rho, dt, dx, dy, u, v):
    b = np.zeros_like(u)
    b[1:-1, 1:-1] = rho * (
        1.0 / dt * ((u[1:-1, 2:] - u[1:-1, 0:-2]) / (2.0 * dx) + (v[2:, 1:-1] - v[0:-2, 1:-1]) / (2.0 * dy))
        - ((u[1:-1, 2:] - u[1:-1, 0:-2]) / (2.0 * dx)) ** 2
        - 2.0 * ((u[2:, 1:-1] - u[0:-2, 1:-1]) / (2.0 * dy) * (v[1:-1, 2:] - v[1:-1, 0:-2]) / (2.0 * dx))
        - ((v[2:, 1:-1] - v[0:-2, 1:-1]) / (2.0 * dy)) ** 2
    )
    # Periodic boundary at x = 2.
    b[1:-1, -1] = rho * (
        1.0 / dt * ((u[1:-1, 0] - u[1:-1, -2]) / (2.0 * dx) + (v[2:, -1] - v[0:-2, -1]) / (2.0 * dy))
        - ((u[1:-1, 0] - u[1:-1, -2]) / (2.0 * dx)) ** 2
        - 2.0 * ((u[2:, -1] - u[0:-2, -1]) / (2.0 * dy) * (v[1:-1, 0] - v[1:-1, -2]) / (2.0 * dx))
        - ((v[2:, -1] - v[0:-2, -1]) / (2.0 * dy)) ** 2
    )
    # Periodic boundary at x = 0.
    b[1:-1, 0] = rho * (
        1.0 / dt * ((u[1:-1, 1] - u[1:-1, -1]) / (2.0 * dx) + (v[2:, 0] - v[0:-2, 0]) / (2.0 * dy))
        - ((u[1:-1, 1] - u[1:-1, -1]) / (2.0 * dx)) ** 2
        - 2.0 * ((u[2:, 0] - u[0:-2, 0]) / (2.0 * dy) * (v[1:-1, 1] - v[1:-1, -1]) / (2.0 * dx))
        - ((v[2:, 0] - v[0:-2, 0]) / (2.0 * dy)) ** 2
    )
    return b


def pressure_poisson_periodic(nit, p, dx, dy, b):
    pn = np.empty_like(p)
    for q in range(nit):
        pn[:] = p
        p[1:-1, 1:-1] = (
            (pn[1:-1, 2:] + pn[1:-1, 0:-2]) * dy**2 + (pn[2:, 1:-1] + pn[0:-2, 1:-1]) * dx**2
        ) / (2.0 * (dx**2 + dy**2)) - dx**2 * dy**2 / (2.0 * (dx**2 + dy**2)) * b[1:-1, 1:-1]
        p[1:-1, -1] = (
            (pn[1:-1, 0] + pn[1:-1, -2]) * dy**2 + (pn[2:, -1] + pn[0:-2, -1]) * dx**2
        ) / (2.0 * (dx**2 + dy**2)) - dx**2 * dy**2 / (2.0 * (dx**2 + dy**2)) * b[1:-1, -1]
        p[1:-1, 0] = (
            (pn[1:-1, 1] + pn[1:-1, -1]) * dy**2 + (pn[2:, 0] + pn[0:-2, 0]) * dx**2
        ) / (2.0 * (dx**2 + dy**2)) - dx**2 * dy**2 / (2.0 * (dx**2 + dy**2)) * b[1:-1, 0]
        p[-1, :] = p[-2, :]  # dp/dy = 0 at the walls
        p[0, :] = p[1, :]


@br.program
def channel_flow(
    nit: br.int64,
    u: br.float64[ny, nx],
    v: br.float64[ny, nx],
    dt: br.float64,
    dx: br.float64,
    dy: br.float64,
    p: br.float64[ny, nx],
    rho: br.float64,
    nu: br.float64,
    F: br.float64,
):
    udiff = 1.0
    stepcount = 0
    un = np.empty_like(u)
    vn = np.empty_like(v)
    while udiff > 0.001:
        un[:] = u
        vn[:] = v
        b = build_up_b(rho, dt, dx, dy, u, v)
        pressure_poisson_periodic(nit, p, dx, dy, b)
        u[1:-1, 1:-1] = (
            un[1:-1, 1:-1]
            - un[1:-1, 1:-1] * dt / dx * (un[1:-1, 1:-1] - un[1:-1, 0:-2])
            - vn[1:-1, 1:-1] * dt / dy * (un[1:-1, 1:-1] - un[0:-2, 1:-1])
            - dt / (2.0 * rho * dx) * (p[1:-1, 2:] - p[1:-1, 0:-2])
            + nu * (
                dt / dx**2 * (un[1:-1, 2:] - 2.0 * un[1:-1, 1:-1] + un[1:-1, 0:-2])
                + dt / dy**2 * (un[2:, 1:-1] - 2.0 * un[1:-1, 1:-1] + un[0:-2, 1:-1])
            )
            + F * dt
        )
        v[1:-1, 1:-1] = (
            vn[1:-1, 1:-1]
            - un[1:-1, 1:-1] * dt / dx * (vn[1:-1, 1:-1] - vn[1:-1, 0:-2])
            - vn[1:-1, 1:-1] * dt / dy * (vn[1:-1, 1:-1] - vn[0:-2, 1:-1])
            - dt / (2.0 * rho * dy) * (p[2:, 1:-1] - p[0:-2, 1:-1])
            + nu * (
                dt / dx**2 * (vn[1:-1, 2:] - 2.0 * vn[1:-1, 1:-1] + vn[1:-1, 0:-2])
                + dt / dy**2 * (vn[2:, 1:-1] - 2.0 * vn[1:-1, 1:-1] + vn[0:-2, 1:-1])
            )
        )
        # Periodic boundary in x for the interior rows.
        u[1:-1, -1] = (
            un[1:-1, -1]
            - un[1:-1, -1] * dt / dx * (un[1:-1, -1] - un[1:-1, -2])
            - vn[1:-1, -1] * dt / dy * (un[1:-1, -1] - un[0:-2, -1])
            - dt / (2.0 * rho * dx) * (p[1:-1, 0] - p[1:-1, -2])
            + nu * (
                dt / dx**2 * (un[1:-1, 0] - 2.0 * un[1:-1, -1] + un[1:-1, -2])
                + dt / dy**2 * (un[2:, -1] - 2.0 * un[1:-1, -1] + un[0:-2, -1])
            )
            + F * dt
        )
        u[1:-1, 0] = (
            un[1:-1, 0]
            - un[1:-1, 0] * dt / dx * (un[1:-1, 0] - un[1:-1, -1])
            - vn[1:-1, 0] * dt / dy * (un[1:-1, 0] - un[0:-2, 0])
            - dt / (2.0 * rho * dx) * (p[1:-1, 1] - p[1:-1, -1])
            + nu * (
                dt / dx**2 * (un[1:-1, 1] - 2.0 * un[1:-1, 0] + un[1:-1, -1])
                + dt / dy**2 * (un[2:, 0] - 2.0 * un[1:-1, 0] + un[0:-2, 0])
            )
            + F * dt
        )
        v[1:-1, -1] = (
            vn[1:-1, -1]
            - un[1:-1, -1] * dt / dx * (vn[1:-1, -1] - vn[1:-1, -2])
            - vn[1:-1, -1] * dt / dy * (vn[1:-1, -1] - vn[0:-2, -1])
            - dt / (2.0 * rho * dy) * (p[2:, -1] - p[0:-2, -1])
            + nu * (
                dt / dx**2 * (vn[1:-1, 0] - 2.0 * vn[1:-1, -1] + vn[1:-1, -2])
                + dt / dy**2 * (vn[2:, -1] - 2.0 * vn[1:-1, -1] + vn[0:-2, -1])
            )
        )
        v[1:-1, 0] = (
            vn[1:-1, 0]
            - un[1:-1, 0] * dt / dx * (vn[1:-1, 0] - vn[1:-1, -1])
            - vn[1:-1, 0] * dt / dy * (vn[1:-1, 0] - vn[0:-2, 0])
            - dt / (2.0 * rho * dy) * (p[2:, 0] - p[0:-2, 0])
            + nu * (
                dt / dx**2 * (vn[1:-1, 1] - 2.0 * vn[1:-1, 0] + vn[1:-1, -1])
                + dt / dy**2 * (vn[2:, 0] - 2.0 * vn[1:-1, 0] + vn[0:-2, 0])
            )
        )
        # No slip at the walls.
        u[0, :] = 0.0
        u[-1, :] = 0.0
        v[0, :] = 0.0
        v[-1, :] = 0.0
        udiff = (np.sum(u) - np.sum(un)) / np.sum(u)
        stepcount += 1
    return stepcount


def initialize(nx, ny, nit):
    return {
        "nit": nit,
        "u": np.zeros((ny, nx)),
        "v": np.zeros((ny, nx)),
        "dt": 0.025,
        "dx": 2.0 / (nx - 1),
        "dy": 2.0 / (ny - 1),
        "p": np.ones((ny, nx)),
        "rho": 1.0,
        "nu": 0.1,
        "F": 1.0,
    }
