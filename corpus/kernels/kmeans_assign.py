# braid: entry=kmeans_assign
# braid: preset tiny N=23 K=3 D=5
# braid: preset default N=60000 K=16 D=8
# braid: targets cpu
"""One Lloyd iteration of k-means: assign each point to its nearest centroid (argmin over a
broadcast distance table), then move every centroid to the mean of its points (an empty
cluster keeps its centroid). Returns the labels and the new centroids."""

import numpy as np
import braid as br

N = br.symbol("N")
K = br.symbol("K")
D = br.symbol("D")


@br.program
def kmeans_assign(points: br.float64[N, D], centroids: br.float64[K, D]):
    dist = np.sum((points[:, np.newaxis, :] - centroids[np.newaxis, :, :]) ** 2, axis=2)
    labels = np.argmin(dist, axis=1)
    new_centroids = np.empty_like(centroids)
    for k in range(K):
        members = labels == k
        count = np.sum(members)
        if count > 0:
            new_centroids[k, :] = np.sum(points * members[:, np.newaxis], axis=0) / count
        else:
            new_centroids[k, :] = centroids[k, :]
    return labels, new_centroids


def initialize(N, K, D):
    rng = np.random.default_rng(42)
    centres = 4.0 * rng.standard_normal((K, D))
    points = centres[rng.integers(0, K, N)] + rng.standard_normal((N, D))
    return {"points": points, "centroids": points[:K].copy()}
