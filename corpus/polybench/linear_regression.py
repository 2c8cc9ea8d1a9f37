# braid: entry=linear_regression
# braid: preset tiny N=23 P=5
# braid: preset default N=200000 P=40
# braid: targets cpu
"""Ordinary least squares by the normal equations with a ridge term: standardize the features,
solve (X^T X + lam I) w = X^T y, report the coefficients and the residual norm."""

import numpy as np
import braid as br

N = br.symbol("N")
P = br.symbol("P")


@br.program
def linear_regression(X: br.float64[N, P], y: br.float64[N], lam: br.float64):
    mu = np.mean(X, axis=0)
    sigma = np.std(X, axis=0)
    Xs = (X - mu) / sigma
    gram = Xs.T @ Xs + lam * np.eye(P)
    w = np.linalg.solve(gram, Xs.T @ (y - np.mean(y)))
    residual = y - np.mean(y) - Xs @ w
    return w, np.linalg.norm(residual)


def initialize(N, P):
    rng = np.random.default_rng(42)
    X = rng.standard_normal((N, P)) * (1.0 + np.arange(P)) + np.arange(P)
    w_true = rng.standard_normal(P)
    return {"X": X, "y": X @ w_true + 0.1 * rng.standard_normal(N), "lam": 0.5}
