# braid: entry=sample_stats
# braid: preset tiny N=57 F=4 BINS=8
# braid: preset default N=40000 F=8 BINS=64
# braid: targets cpu mpi
"""Descriptive statistics of a data matrix (samples in rows, features in columns), plain
NumPy: covariance and correlation of the features, each feature's median from a sort along
the samples, a histogram of the first standardized feature, its empirical CDF from a
cumulative sum, and the rank of every sample in the last feature."""

import numpy as np


#pythran export sample_stats(float64[:,:], int)
def sample_stats(X, bins):
    C = np.cov(X, rowvar=False)
    R = np.corrcoef(X, rowvar=False)
    S = np.sort(X, axis=0)
    n = X.shape[0]
    median = 0.5 * (S[(n - 1) // 2] + S[n // 2])
    Z = (X - np.mean(X, axis=0)) / np.std(X, axis=0)
    counts, edges = np.histogram(Z[:, 0], bins=bins, range=(-4.0, 4.0))
    cdf = np.cumsum(counts) / n
    order = np.argsort(X[:, -1], kind="stable")
    rank = np.zeros(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return C, R, median, counts, edges, cdf, rank


def initialize(N, F, BINS):
    rng = np.random.default_rng(42)
    mix = rng.standard_normal((F, F)) / np.sqrt(F)
    X = rng.standard_normal((N, F)) @ mix + np.linspace(-1.0, 1.0, F)
    return {"X": X, "bins": BINS}
