# braid: entry=wave_periodic
# braid: preset tiny NX=9 NY=7 TSTEPS=5
# braid: preset default NX=400 NY=360 TSTEPS=40
# braid: targets cpu mpi opencl hls
"""2-D wave equation on a periodic (torus) grid, leapfrog in time, neighbours through np.roll;
DaCe dialect. Returns the final field and its energy-like norm after every step."""

import numpy as np
import dace as dc

NX = dc.symbol("NX")
NY = dc.symbol("NY")


@dc.program
def wave_periodic(u: dc.float64[NY, NX], u_prev: dc.float64[NY, NX], c2: dc.float64, TSTEPS: dc.int64):
    norms = np.zeros(TSTEPS, dtype=np.float64)
    for t in range(TSTEPS):
        lap = (
            np.roll(u, 1, axis=0) + np.roll(u, -1, axis=0) + np.roll(u, 1, axis=1) + np.roll(u, -1, axis=1) - 4.0 * u
        )
        u_next = 2.0 * u - u_prev + c2 * lap
        u_prev[:] = u
        u[:] = u_next
        norms[t] = np.sqrt(np.sum(u * u))
    return norms


def initialize(NX, NY, TSTEPS):
    y, x = np.meshgrid(np.linspace(0.0, 1.0, NY, endpoint=False), np.linspace(0.0, 1.0, NX, endpoint=False), indexing="ij")
    u = np.exp(-40.0 * ((x - 0.4) ** 2 + (y - 0.55) ** 2))
    return {"u": u, "u_prev": u.copy(), "c2": 0.2, "TSTEPS": TSTEPS}
