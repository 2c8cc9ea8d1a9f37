"""Fancy indexing with several integer index arrays (NumPy's advanced indexing): the arrays and
the integers among the items broadcast together, slices index the other dimensions, and the
result's dimensions go where NumPy puts them. Reads and writes, compared with NumPy."""

import numpy as np
import pytest

from test_numpy_surface import build_pair, check

SOURCE = '''
import numpy as np

#pythran export pairs(float64[:,:], int64[:], int64[:])
def pairs(A, i, j):
    return A[i, j], A[i[:, None], j], A[i, i], A.T[j, i], A[::2][i % 2, j], A[i, :][:, j]

#pythran export mixed(float64[:,:], int64[:])
def mixed(A, k):
    return A[1:3, k], A[k, 1:], A[k, 0], A[-1, k], A[:, [0, 2]], A[[1, 0]], A[k[0], [1, 1]]

#pythran export cube(float64[:,:,:], int64[:], int32[:])
def cube(T, i, j):
    return T[i, :, j], T[:, i, j], T[i, j], T[0, :, i], T[i, 1, :], T[..., j], T[i[:, None], j, 0]

#pythran export flat(float64[:,:], int64[:], int64[:])
def flat(A, i, j):
    return A.reshape(A.shape[1], A.shape[0])[j, i]

#pythran export writes(float64[:,:], int64[:], int64[:], float64[:])
def writes(A, i, j, v):
    B = A.copy()
    B[i, j] = v
    C = A.copy()
    C[i, j] = 0.5
    D = A.copy()
    D[i, j] += 1.0
    E = A.copy()
    E[i[:, None], j] = A[:i.shape[0], :j.shape[0]]
    F = A.copy()
    F[1:, j] = -2.0
    G = A.copy()
    G[i, j] = G[j, i]
    return B, C, D, E, F, G

#pythran export scatter3(float64[:,:,:], int64[:], int64[:])
def scatter3(T, i, j):
    U = T.copy()
    U[i, :, j] = 0.0
    U[0, i, j] -= 7.0
    return U
'''


@pytest.fixture(scope="module")
def fancy(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("fancy"), "fancy", SOURCE)


rng = np.random.default_rng(11)


def test_index_arrays_on_two_axes_broadcast_together(fancy):
    check(*fancy, "pairs", rng.random((5, 5)), np.array([0, 4, -1, 2]), np.array([3, -5, 1, 1]))


def test_index_arrays_mixed_with_slices_integers_and_lists(fancy):
    check(*fancy, "mixed", rng.random((4, 5)), np.array([2, -1, 0]))


def test_three_dimensions_put_separated_index_dimensions_first(fancy):
    check(*fancy, "cube", rng.random((3, 4, 5)), np.array([2, 0, -1]), np.array([3, 1, 0], dtype=np.int32))


def test_index_arrays_on_a_reshaped_view(fancy):
    check(*fancy, "flat", rng.random((3, 4)), np.array([0, 2, 1]), np.array([3, 0, 1]))


def test_writes_through_two_index_arrays_repeated_indices_last_wins(fancy):
    # (1, 2) appears twice: the last value wins for '=', and '+=' adds once (buffered), as NumPy.
    check(*fancy, "writes", rng.random((4, 4)), np.array([1, 3, 1, -4]), np.array([2, 0, 2, 3]),
          np.array([10.0, 20.0, 30.0, 40.0]))


def test_writes_on_three_dimensions(fancy):
    check(*fancy, "scatter3", rng.random((3, 4, 5)), np.array([0, 2]), np.array([4, -1]))


def test_out_of_range_pairs_raise_instead_of_reading_outside(fancy):
    compiled, _ = fancy
    with pytest.raises(RuntimeError, match="out of bounds"):
        compiled.pairs(rng.random((5, 5)), np.array([0, 5, 1, 2]), np.array([0, 1, 2, 3]))
    with pytest.raises(RuntimeError, match="out of bounds"):
        compiled.writes(rng.random((4, 4)), np.array([0, 1, 2, 3]), np.array([0, 1, 2, -5]), np.zeros(4))


def test_index_arrays_that_do_not_broadcast_raise(fancy):
    compiled, reference = fancy
    with pytest.raises(IndexError):
        reference.pairs(rng.random((5, 5)), np.array([0, 1, 2]), np.array([0, 1]))
    with pytest.raises((ValueError, IndexError)):
        compiled.pairs(rng.random((5, 5)), np.array([0, 1, 2]), np.array([0, 1]))
