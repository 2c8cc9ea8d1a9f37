"""Casts of complex values: to bool a number is true when either part is nonzero, to real types
the imaginary part is dropped (NumPy warns and does the same)."""

import warnings

import numpy as np

from test_numpy_surface import build_pair

SOURCE = '''
import numpy as np

#pythran export casts(complex128[:], complex64[:])
def casts(z, w):
    return z.astype(bool), np.count_nonzero(z), z.astype(np.int64), w.astype(bool), np.logical_not(z)
'''


def test_complex_casts_match_numpy(tmp_path):
    compiled, reference = build_pair(tmp_path, "complex_casts", SOURCE)
    z = np.array([0j, 1j, 2 + 0j, 0.5j, -0.0 + 0j, -3.7 - 2j])
    w = z.astype(np.complex64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        want = reference.casts(z, w)
        got = compiled.casts(z, w)
    assert len(got) == len(want)
    for g, r in zip(got, want):
        np.testing.assert_array_equal(g, r)
        assert np.asarray(g).dtype == np.asarray(r).dtype


PRODUCTS = '''
import numpy as np

#pythran export products(complex128[:], complex128[:], complex64[:], complex64[:])
def products(a, b, c, d):
    e = a.copy()
    e *= b
    return a * b, a ** 2, c * d, e
'''


def test_complex_products_follow_numpy_not_annex_g(tmp_path):
    # NumPy multiplies complex numbers by the textbook formula: (inf+infj)*(1+0j) is nan+nanj, where
    # C's `*` (Annex G) recovers inf+infj. Finite products must agree too.
    compiled, reference = build_pair(tmp_path, "complex_products", PRODUCTS)
    inf, nan = np.inf, np.nan
    a = np.array([complex(inf, inf), complex(inf, 0), 1 + 2j, -0.5 + 3j, complex(nan, 1), 0j])
    b = np.array([1 + 0j, 0j, 3 - 1j, 2 + 2j, 1 + 1j, complex(inf, inf)])
    c, d = a.astype(np.complex64), b.astype(np.complex64)
    with np.errstate(all="ignore"):
        want = reference.products(a, b, c, d)
        got = compiled.products(a, b, c, d)
    for g, r in zip(got, want):
        np.testing.assert_array_equal(g, r)
        assert g.dtype == r.dtype
