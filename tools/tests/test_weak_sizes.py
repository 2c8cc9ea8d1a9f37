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
