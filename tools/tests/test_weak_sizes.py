"""Sizes are Python ints in NumPy code (x.shape[0], x.size, len(x), x.ndim, a symbol's value), so
they do not widen the dtype of the arrays they meet: x / len(x) of float32 is float32."""

import numpy as np

from test_numpy_surface import build_pair

SOURCE = '''
import numpy as np
import braid as br

N = br.symbol('N')

#pythran export sizes(float32[:], int32[:])
def sizes(x, k):
    n = x.shape[0]
    return x / n, x / x.size, x / len(x), k + n, k * x.ndim, x.sum() / n, np.arange(n)

@br.program
def declared(x: br.float32[N], k: br.int16[N]):
    return x * N, k - N, (x - x.mean()) / (N - 1)
'''


def test_sizes_are_weak_python_ints(tmp_path):
    compiled, reference = build_pair(tmp_path, "weak_sizes", SOURCE)
    x = np.linspace(1.0, 3.0, 7, dtype=np.float32)
    k = np.arange(7, dtype=np.int32)
    for name, args in (("sizes", (x, k)), ("declared", (x, k.astype(np.int16)))):
        got, want = getattr(compiled, name)(*args), getattr(reference, name)(*args)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert np.asarray(g).dtype == np.asarray(w).dtype, (name, np.asarray(g).dtype, np.asarray(w).dtype)
            np.testing.assert_allclose(g, w, rtol=1e-6)


LOOP_SOURCE = '''
import numpy as np

#pythran export loops(float32[:], int32[:])
def loops(x, k):
    z = x * 1
    for i in range(2):
        z = z / (i + 3)
    s = 0
    for i in range(3):
        s += i
    t = k.copy()
    for j in range(1, 4):
        t = t * j
    return z, k * s, t
'''


def test_range_variables_are_weak_python_ints(tmp_path):
    # z / (i + 3) keeps float32 (a loop rebinding it used to be a float64-vs-float32 error).
    compiled, reference = build_pair(tmp_path, "weak_loops", LOOP_SOURCE)
    x = np.linspace(1.0, 3.0, 5, dtype=np.float32)
    k = np.arange(5, dtype=np.int32)
    for g, w in zip(compiled.loops(x, k), reference.loops(x, k)):
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=1e-6)
