# braid: entry=arc_distance
# braid: preset tiny N=17
# braid: preset default N=1000000
# braid: targets cpu mpi opencl hls
"""Great-circle (haversine) distance between pairs of points on the unit sphere, plain NumPy.

theta is latitude and phi longitude, in radians; the result is the central angle.
"""

import numpy as np


#pythran export arc_distance(float64[:], float64[:], float64[:], float64[:])
def arc_distance(theta_1, phi_1, theta_2, phi_2):
    sin_dlat = np.sin((theta_2 - theta_1) / 2.0)
    sin_dlon = np.sin((phi_2 - phi_1) / 2.0)
    h = sin_dlat * sin_dlat + np.cos(theta_1) * np.cos(theta_2) * sin_dlon * sin_dlon
    return 2.0 * np.arctan2(np.sqrt(h), np.sqrt(1.0 - h))


def initialize(N):
    rng = np.random.default_rng(42)
    half_pi = np.pi / 2.0
    return {
        "theta_1": rng.uniform(-half_pi, half_pi, N),
        "phi_1": rng.uniform(-np.pi, np.pi, N),
        "theta_2": rng.uniform(-half_pi, half_pi, N),
        "phi_2": rng.uniform(-np.pi, np.pi, N),
    }
