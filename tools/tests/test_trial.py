"""NumPy code as people write it outside this project: Python idioms (loops over arrays,
enumerate/zip, Python types as dtypes) and small programs in the three dialects, each
compiled and compared with NumPy on the same inputs."""

import importlib.util
import subprocess
import warnings

import numpy as np
import pytest

from test_corpus import braid_binary
from test_numpy_surface import build_pair, check

IDIOMS = '''
import numpy as np
import math
from math import sqrt, pi

#pythran export loops(float64[:], float64[:], float64[:,:], int64[:], float32[:])
def loops(x, y, A, k, f):
    total = 0.0
    for i, (a, b) in enumerate(zip(x, y)):
        total += i * a * b
    s = 0.0
    for j, w in enumerate(x, 1):
        s += j * w
    r = 0.0
    for row in A:
        r += row.sum() * row[0]
    c = 0
    for v in k:
        c += abs(int(v)) % 3
    q = 0.0
    for v in reversed(x):
        q = q * 0.5 + v
    t = 0.0
    for w in (0.25, 0.5, 0.25):
        t += w * x[0]
    z = 0.0
    for M in (A, A * 2.0):
        z += M[0, 0]
    u = 0
    for i, r2 in zip(range(10, 0, -3), k):
        u += i * r2
    g = np.float32(0.0)
    for e in f:
        g += e
    cnt = 0
    for e2 in x[x > 0.5]:
        cnt += 1
    for row in A:
        row[0] = -1.0
    return total, s, r, c, q, t, z, u, g, cnt, A

#pythran export python_dtypes(float64[:], int64[:])
def python_dtypes(x, k):
    return (np.zeros(3, dtype=int), np.ones((2, 2), dtype=bool), np.arange(4, dtype=float), x.astype(int),
            k.astype(float), np.full(2, 3, dtype=complex), x.astype("float32"), np.zeros(2, dtype="int32"),
            np.asarray(k, dtype=np.float32))

#pythran export float_ranges(float, float, float, float32[:])
def float_ranges(a, b, h, f):
    x = np.arange(a, b, h)
    return (x, np.arange(b, a, -h), np.arange(b), np.arange(a, b), np.arange(0.0, b, 0.25, dtype=np.float32),
            0.5 * h * np.sum(x[1:] + x[:-1]), f.dtype == np.float32, (f * 2.0).dtype != np.float32)

#pythran export python_math(float64[:], float32[:], int)
def python_math(x, f, n):
    s = 0.0
    for i in range(n):
        s += math.sqrt(x[i]) * math.exp(-x[i]) + math.atan2(x[i], 1.0) + math.log(x[i] + 1.0, 2)
    return (s, f * math.sqrt(2.0), f * pi, math.floor(x[0] * 10), math.ceil(-x[1]), round(x[0] * 10), round(2.5),
            round(n), pow(x[0], 2), math.hypot(x[0], x[1]), math.isnan(x[0]), sqrt(x[1]), math.degrees(x[0]),
            math.fabs(-x[1]), math.trunc(-2.7), round(np.float64(x[0]), 2))

#pythran export closures(float64[:], float64)
def closures(x, a):
    def f(t):
        return a * t + 1.0
    def g(t):
        a = 10.0
        return f(t) + a
    def h(i):
        x[i] = -x[i]
    b = f(x)
    a = 2.0
    c = f(x[0])
    d = g(x)
    h(1)
    def k(v, w=3):
        s = 0.0
        for i in range(v.shape[0]):
            s += v[i] * w
        return s
    return b, c, d, a, x, k(x), k(x, 2)

#pythran export comprehensions(float64[:], int, float64[:,:])
def comprehensions(x, n, A):
    sq = np.array([x[i] ** 2 for i in range(n)])
    tot = sum([x[i] for i in range(n)])
    g = sum(x[i] * x[i] for i in range(x.shape[0]))
    m = max(abs(v) for v in x)
    rows = np.array([A[i] * i for i in range(A.shape[0])])
    pairs = np.array([a * b for a, b in zip(x, x[::-1])])
    ints = np.array([k * k for k in range(n)])
    mean = np.mean([np.sum(r) for r in A])
    lens = np.array([i for i in range(2, 2 * n, 2)], dtype=np.float32)
    return sq, tot, g, m, rows, pairs, ints, mean, lens, np.array([x[:2], x[1:3] * 2]), np.array([A[0], A[1]], dtype=np.float32)

def compute_bin(x, bin_edges):
    n = bin_edges.shape[0] - 1
    a_min = bin_edges[0]
    a_max = bin_edges[-1]
    if x == a_max:
        return n - 1
    return int(n * (x - a_min) / (a_max - a_min))

def classify(v):
    if v < 0.0:
        return -1.0
    if v > 1.0:
        s = v * 2.0
        return s
    elif v > 0.5:
        return 0.5
    return v

#pythran export early_returns(float64[:], float64[:])
def early_returns(x, edges):
    out = np.zeros(x.shape[0], dtype=np.int64)
    c = np.zeros_like(x)
    for i in range(x.shape[0]):
        out[i] = compute_bin(x[i], edges)
        c[i] = classify(x[i] * 2 - 0.5)
    return out, c

#pythran export double_buffering(float64[:], int)
def double_buffering(a0, T):
    A = a0.copy()
    B = np.zeros_like(A)
    for t in range(T):
        B[1:-1] = 0.5 * (A[:-2] + A[2:])
        A, B = B, A
    C = a0.copy()
    for t in range(T):
        Cn = C.copy()
        C[1:-1] = Cn[1:-1] + 0.1 * (Cn[2:] - 2 * Cn[1:-1] + Cn[:-2])
    x = 1.0
    y = 2.0
    for t in range(T):
        x, y = y, x + y
    s = a0
    for t in range(T):
        s = s * 0.5 + 1.0
    return A, B, C, x, y, s

#pythran export unpack_arrays(float64[:,:], float64[:])
def unpack_arrays(X, v):
    q1, q3 = np.percentile(X, [25, 75], axis=0)
    a, b = v[:2]
    r0, r1, r2 = X[:3]
    r1[0] = -1.0
    return q3 - q1, a * b, r0 + r2, X

def bump(v):
    v += 1.0
    return v.sum()

#pythran export aliases(float64[:,:], float64[:])
def aliases(A, x):
    y = x
    x += 1.0
    z = x[::2]
    x[0] = 9.0
    B = A.T
    A[0, 1] = 5.0
    a = b = np.zeros(3)
    a[0] = 7.0
    s = bump(x[1:])
    rows = []
    w = A[1]
    for i in range(A.shape[1]):
        A[1, i] = -A[1, i]
    c = x.copy()
    c2 = c
    for t in range(2):
        c2 = c2 * 2.0
    return y, z, B, a, b, s, x, w, c, c2

#pythran export index_tricks_and_shapes(float64[:], float64[:,:])
def index_tricks_and_shapes(x, A):
    return (np.r_[x, x[:2]], np.c_[x, x * 2], np.r_[0.0, x, 5], np.r_[0:10:3], np.r_[x, 0:1:4j], np.c_[A, A[:, 0]], np.r_[A, A],
            A.shape == (A.shape[0], A.shape[1]), A.shape != (3, 3), x.shape == A.shape, A.shape == (2, 3))

#pythran export tuple_arithmetic(float64[:,:,:])
def tuple_arithmetic(A):
    s = A.shape + (1,)
    z = np.zeros(s)
    t = (0,) * 2
    u = [1, 2] + [3]
    return (z, np.zeros(A.shape[::-1]), len(s), np.ones(t[0] + 1), np.array(A.shape[1:]), np.array(A.shape[:-1]), np.array(A.shape[-2:]),
            np.array(u), np.array(2 * (A.shape[0],)), len(A.shape[5:]), np.array(A.shape[::2]), np.array(A.shape[-1:0:-1]))

#pythran export float_strings(float64[:])
def float_strings(x):
    best = float("inf")
    worst = float("-inf")
    for v in x:
        if v < best:
            best = v
        worst = max(worst, v)
    return best, worst, float("nan"), float(" 1e3 ")

#pythran export found_index(float64[:], float64)
def found_index(x, t):
    found = False
    for i in range(x.shape[0]):
        if x[i] > t:
            r = i
            found = True
            break
    if found:
        out = r * 2
    else:
        out = -1
    return out, found

def first_negative(x):
    for i in range(x.shape[0]):
        if x[i] < 0:
            return i
    return -1

def first_above(x, t):
    k = 0
    while k < x.shape[0]:
        if x[k] > t:
            return x[k] * 2.0
        k += 1
    return 0.0

def find_row(A, v):
    for r in range(A.shape[0]):
        if np.all(A[r] == v):
            return r
    return -1

#pythran export loop_returns(float64[:], float64[:,:])
def loop_returns(x, A):
    return first_negative(x), first_negative(-np.abs(x) - 1), first_above(x, 0.5), first_above(x, 10.0), find_row(A, A[1]), find_row(A, A[0] + 100)

#pythran export loop_else(float64[:], float64)
def loop_else(x, t):
    idx = -1
    for i in range(x.shape[0]):
        if x[i] > t:
            idx = i
            break
    else:
        idx = -2
    n = 0
    k = 0
    while k < 3:
        k += 1
        if x[0] > 100.0:
            break
    else:
        n = 10
    primes = 0
    for c in range(2, 20):
        for d in range(2, c):
            if c % d == 0:
                break
        else:
            primes += 1
    return idx, n, primes

#pythran export nd_indices(float64[:,:], float64[:,:,:])
def nd_indices(A, T):
    s = 0.0
    for i, j in np.ndindex(A.shape):
        s += A[i, j] * (i + 2 * j)
    t = 0.0
    for idx in np.ndindex(T.shape):
        t += T[idx] * idx[2]
    c = 0
    for k in np.ndindex(3, 2):
        c += k[0] * 10 + k[1]
    return s, t, c
'''


@pytest.fixture(scope="module")
def idioms(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("idioms"), "idioms", IDIOMS)


def test_loops_over_arrays_enumerate_zip_reversed_and_tuples(idioms):
    check(*idioms, "loops", np.linspace(0, 1, 5), np.arange(6.0), np.arange(12.0).reshape(3, 4),
          np.array([-4, 5, 7, 2]), np.ones(3, np.float32))


def test_python_types_and_strings_as_dtypes(idioms):
    check(*idioms, "python_dtypes", np.array([-1.5, 0.2, 2.7]), np.array([3, -4]))


@pytest.mark.parametrize("a, b, h", [(0.0, 1.0, 0.1), (0.3, 2.9, 0.7), (2.0, 1.0, 0.5), (-1.5, 1.5, 1.5)])
def test_float_arange_with_run_time_bounds(idioms, a, b, h):
    check(*idioms, "float_ranges", a, b, h, np.ones(2, np.float32))


def test_float_arange_with_a_zero_step_raises(idioms):
    with pytest.raises(ValueError):
        idioms[0].float_ranges(0.0, 1.0, 0.0, np.ones(2, np.float32))


def test_python_math_module_on_scalars(idioms):
    check(*idioms, "python_math", np.array([0.34, 0.91, 0.5]), np.ones(2, np.float32), 3)


def test_python_math_domain_error_raises_as_python(idioms):
    with pytest.raises(ValueError):
        idioms[0].python_math(np.array([-0.5, 0.91, 0.5]), np.ones(2, np.float32), 1)


def test_nested_functions_read_enclosing_names_when_called(idioms):
    # f reads the enclosing a at each call (2.0 after the rebinding), g's own a does not leak,
    # h writes the enclosing array in place.
    check(*idioms, "closures", np.array([1.0, 2.0, 3.0]), 0.5)


def test_comprehensions_over_run_time_ranges(idioms):
    check(*idioms, "comprehensions", np.array([1.0, -3.0, 2.5, 0.5]), 3, np.arange(6.0).reshape(2, 3))


def test_helpers_with_early_returns(idioms):
    check(*idioms, "early_returns", np.array([0.0, 0.3, 0.99, 1.0, 0.5]), np.linspace(0, 1, 5))


@pytest.mark.parametrize("steps", [0, 1, 5])
def test_double_buffering_by_swapping_names_in_a_loop(idioms, steps):
    check(*idioms, "double_buffering", np.sin(np.arange(8.0)), steps)


def test_unpacking_an_array_along_its_first_axis(idioms):
    check(*idioms, "unpack_arrays", np.sin(np.arange(30.0)).reshape(10, 3), np.array([2.0, 3.0]))


def test_unpacking_an_array_of_another_length_raises(idioms):
    with pytest.raises(ValueError):
        idioms[0].unpack_arrays(np.sin(np.arange(30.0)).reshape(10, 3), np.array([2.0]))


def test_names_sharing_arrays_and_rebinding_a_shared_name_in_a_loop(idioms):
    check(*idioms, "aliases", np.arange(6.0).reshape(2, 3), np.arange(5.0))


def test_r_c_index_tricks_and_shape_tuple_comparisons(idioms):
    # A.shape == (a, b) is one Python bool, not an elementwise array.
    check(*idioms, "index_tricks_and_shapes", np.arange(3.0), np.arange(6.0).reshape(3, 2))


def test_shape_tuples_join_repeat_and_slice_as_python_tuples(idioms):
    # A.shape + (1,) is (2, 3, 4, 1), not an elementwise sum.
    check(*idioms, "tuple_arithmetic", np.ones((2, 3, 4)))


def test_float_of_inf_and_nan_strings(idioms):
    check(*idioms, "float_strings", np.array([3.0, -1.0, 2.0]))


@pytest.mark.parametrize("t", [0.4, 1.4])
def test_a_loop_index_kept_in_a_name_is_read_after_the_loop(idioms, t):
    check(*idioms, "found_index", np.array([0.1, 0.5, 0.9]), t)


def test_helpers_returning_from_inside_loops(idioms):
    check(*idioms, "loop_returns", np.array([0.3, 0.9, -1.0, 2.0]), np.arange(6.0).reshape(3, 2))


@pytest.mark.parametrize("t", [0.4, 1.4])
def test_for_else_and_while_else(idioms, t):
    check(*idioms, "loop_else", np.array([0.1, 0.5, 0.9]), t)


def test_loops_over_np_ndindex(idioms):
    check(*idioms, "nd_indices", np.arange(6.0).reshape(2, 3), np.arange(24.0).reshape(2, 3, 4))


def build(tmp_path, name, text):
    src = tmp_path / f"{name}.py"
    src.write_text(text)
    return subprocess.run([str(braid_binary()), "build", str(src), "-o", str(tmp_path)], capture_output=True, text=True)


@pytest.mark.parametrize("body, line, col, message", [
    ("    for w in (1.0, 2.0):\n        if w > x[0]:\n            break\n        t += w\n", 8, 13, "'break' in a loop over a tuple"),
    ("    for i, w in enumerate((1.0, 2.0)):\n        t += w\n", 6, 27, "enumerate() over a tuple"),
    ("    for w in x[0]:\n        t += w\n", 6, 14, "cannot iterate over a scalar"),
    ("    y = [x[i] for i in range(x.shape[0])]\n", 6, 9, "a list comprehension is supported as the argument of np.array"),
    ("    t = np.stack(x[i] for i in range(2))\n", 6, 17, "a generator expression is supported as the argument of sum()"),
    ("    t = np.sum(np.array([x[:i] for i in range(x.shape[0])]))\n", 6, 26, "different shapes"),
    ("    t = np.sum(np.array([x[:i] for i in range(2)]))\n", 6, 16, "different shapes"),
])
def test_unsupported_iterations_are_located_errors(tmp_path, body, line, col, message):
    text = f"import numpy as np\n\n#pythran export f(float64[:])\ndef f(x):\n    t = 0.0\n{body}    return t\n"
    r = build(tmp_path, "iters", text)
    assert r.returncode == 1
    assert f"iters.py:{line}:{col}: error: " in r.stderr and message in r.stderr, r.stderr


# Small programs written the way NumPy users write them (three dialects), each compiled and run
# next to CPython on its own inputs. The first line names the entry and, for the plain-file
# dialect without export comments, the --signature to build with.
PROGRAMS = {
    'bfs_frontier': """\
# trial: entry=bfs_levels
import numpy as np

#pythran export bfs_levels(int64[:,:], int)
def bfs_levels(adj, src):
    n = adj.shape[0]
    level = np.full(n, -1, dtype=np.int64)
    level[src] = 0
    frontier = np.zeros(n, dtype=np.bool_)
    frontier[src] = True
    d = 0
    while frontier.any():
        d += 1
        nxt = np.zeros(n, dtype=np.bool_)
        for u in range(n):
            if frontier[u]:
                for v in range(n):
                    if adj[u, v] != 0 and level[v] < 0:
                        level[v] = d
                        nxt[v] = True
        frontier = nxt
    return level

def inputs():
    a = np.zeros((6, 6), dtype=np.int64)
    for u, v in [(0, 1), (1, 2), (2, 3), (0, 4), (4, 3)]:
        a[u, v] = a[v, u] = 1
    return a, 0
""",
    'life_neighbours': """\
# trial: entry=life signature=life(int64[:,:], int)
import numpy as np

def life(grid, steps):
    g = grid.copy()
    for _ in range(steps):
        n = sum(np.roll(np.roll(g, i, 0), j, 1) for i in (-1, 0, 1) for j in (-1, 0, 1) if (i != 0 or j != 0))
        g = ((n == 3) | ((g == 1) & (n == 2))).astype(np.int64)
    return g

def inputs():
    g = np.zeros((6, 6), dtype=np.int64)
    g[1, 2] = g[2, 3] = g[3, 1] = g[3, 2] = g[3, 3] = 1
    return g, 4
""",
    'dace_define_local': """\
# trial: entry=locals_demo
import numpy as np
import dace

N = dace.symbol("N")

@dace.program
def locals_demo(A: dace.float64[N]):
    t = dace.define_local([N], dace.float64)
    s = dace.define_local_scalar(dace.float32)
    u = dace.ndarray((N, 2), dace.int32)
    u[:] = 3
    t[:] = A * 2
    for i in range(N):
        s += A[i]
    return t, s, u

def inputs():
    return (np.arange(3.0),)
""",
    'dace_reshape_symbols': """\
# trial: entry=flatten_rows
import numpy as np
import dace as dc

N, H, W, C = (dc.symbol(s) for s in ('N', 'H', 'W', 'C'))

@dc.program
def flatten_rows(x: dc.float64[N, H, W], w: dc.float64[C]):
    return np.reshape(x[:, ::2, :], (N, C)) * w

def inputs():
    return np.arange(24.0).reshape(2, 4, 3), np.linspace(0, 1, 6)
""",
    'dace_nested_symbols': """\
# trial: entry=smooth_all
import numpy as np
import dace as dc

N, K, L = (dc.symbol(s, dtype=dc.int64) for s in ('N', 'K', 'L'))

@dc.program
def box(x: dc.float64[K + 2], out: dc.float64[K]):
    for i in dc.map[0:K]:
        out[i] = (x[i] + x[i + 1] + x[i + 2]) / 3.0

@dc.program
def mean_of(v: dc.float64[L]):
    return np.sum(v) / L

@dc.program
def smooth_all(a: dc.float64[N]):
    out = np.ndarray((N - 2,), dtype=np.float64)
    box(a, out)
    return out, mean_of(out), mean_of(a), mean_of(a[::2])

def inputs():
    return (np.sin(np.arange(9.0)),)
""",
    'dace_locals': """\
# trial: entry=matvec
import numpy as np
import dace

N = dace.symbol('N', dtype=dace.int64)
M = dace.symbol('M')

@dace.program
def matvec(A: dace.float64[N, M], x: dace.float64[M], y: dace.float64[N]) -> dace.float64[N]:
    tmp = np.ndarray([N], dtype=dace.float64)
    for i in dace.map[0:N:1]:
        tmp[i] = 0.0
    for i, j in dace.map[0:N, 0:M]:
        tmp[i] += A[i, j] * x[j]
    y[:] = tmp + 1
    return tmp * 2

def inputs():
    return np.arange(6.0).reshape(2, 3), np.linspace(0, 1, 3), np.zeros(2)
""",
    'fancy_scatter': """\
# trial: entry=scatter signature=scatter(float64[:,:], int64[:], int64[:], float64[:])
import numpy as np

def scatter(A, rows, cols, v):
    B = A.copy()
    B[rows, cols] = v
    sub = A[rows[:, None], cols]
    B[rows, cols] += 1.0
    return B, sub

def inputs():
    A = np.arange(42.0).reshape(6, 7)
    return A, np.array([0, 3, 5]), np.array([6, 1, 2]), np.array([-1.0, -2.0, -3.0])
""",
    'kmeans': """\
# trial: entry=kstep
import numpy as np
import dace as dc

N = dc.symbol('N')
K = dc.symbol('K')
D = dc.symbol('D')

@dc.program
def kstep(X: dc.float64[N, D], C: dc.float64[K, D]):
    d2 = np.sum((X[:, None, :] - C[None, :, :]) ** 2, axis=-1)
    lab = np.argmin(d2, axis=1)
    newC = np.zeros_like(C)
    for k in range(K):
        m = lab == k
        if np.any(m):
            newC[k] = X[m].mean(axis=0)
        else:
            newC[k] = C[k]
    return lab, newC

def inputs():
    X = np.array([[0.0, 0.0], [0.1, 0.2], [5.0, 5.0], [5.2, 4.9], [0.3, 0.1], [9.0, 9.0]])
    return X, np.array([[0.0, 0.0], [5.0, 5.0], [100.0, 100.0]])
""",
    'cumstats': """\
# trial: entry=cumstats
import numpy as np

#pythran export cumstats(float64[:], int)
def cumstats(x, w):
    c = np.cumsum(np.insert(x, 0, 0.0))
    mov = (c[w:] - c[:-w]) / w
    z = (x - x.mean()) / x.std()
    ranks = np.argsort(np.argsort(x))
    return mov, z, ranks, np.maximum.accumulate(x), np.cumprod(1 + x * 0.01)[-1]

def inputs():
    return (np.array([3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.0, 6.0]), 3)
""",
    'masks2': """\
# trial: entry=masks2 signature=masks2(float64[:,:], float64)
import numpy as np

def masks2(A, t):
    B = A.copy()
    B[B < t] = 0
    rows = np.any(A > 0.9, axis=1)
    C = A[rows]
    D = np.where(A > t, A, np.nan)
    m = np.nanmax(D, axis=1)
    s = np.nansum(D)
    cnt = (A > t).sum(axis=0)
    return B, C, m, s, cnt, np.isnan(D).sum()

def inputs():
    return (np.abs(np.sin(np.arange(20.0))).reshape(4, 5), 0.5)
""",
    'bitops': """\
# trial: entry=bitops signature=bitops(uint8[:], int64)
import numpy as np

def bitops(data, seed):
    crc = 0xFFFF
    for b in data:
        crc ^= int(b) << 8
        for _ in range(8):
            if crc & 0x8000:
                crc = ((crc << 1) ^ 0x1021) & 0xFFFF
            else:
                crc = (crc << 1) & 0xFFFF
    h = np.uint64(seed)
    for b in data:
        h = (h ^ np.uint64(b)) * np.uint64(1099511628211)
    pop = np.zeros(data.shape[0], dtype=np.int64)
    for i in range(data.shape[0]):
        v = int(data[i])
        while v:
            pop[i] += v & 1
            v >>= 1
    return crc, h, pop

def inputs():
    return (np.array([1, 200, 37, 255, 0], dtype=np.uint8), 14695981039346656037 % (2**63))
""",
    'meshgrid': """\
# trial: entry=gauss
import numpy as np

#pythran export gauss(int, int)
def gauss(nx, ny):
    x = np.linspace(-1.0, 1.0, nx)
    y = np.linspace(-2.0, 2.0, ny)
    X, Y = np.meshgrid(x, y)
    Z = np.exp(-(X ** 2 + Y ** 2))
    return Z, X.sum()

def inputs():
    return (5, 4)
""",
    'knn': """\
# trial: entry=knn
import numpy as np

#pythran export knn(float64[:,:], float64[:,:], int)
def knn(train, test, k):
    d = np.sum(test ** 2, axis=1)[:, np.newaxis] + np.sum(train ** 2, axis=1)[np.newaxis, :] - 2 * test @ train.T
    idx = np.argsort(d, axis=1)[:, :k]
    nearest = np.take_along_axis(d, idx, axis=1)
    return idx, nearest

def inputs():
    return (np.sin(np.arange(20.0)).reshape(10, 2) * 3, np.array([[1.0, 2.0], [5.0, 0.5], [3.0, 3.0]]), 3)
""",
    'listcomp': """\
# trial: entry=lc
import numpy as np

#pythran export lc(float64[:], int)
def lc(x, n):
    sq = np.array([x[i] ** 2 for i in range(n)])
    tot = sum([x[i] for i in range(n)])
    return sq, tot

def inputs():
    return (np.arange(6.0), 4)
""",
}


def run_program(tmp_path, name, text):
    import re
    import braid
    braid.install_dace_alias()
    head = text.splitlines()[0]
    entry = re.search(r"entry=(\w+)", head).group(1)
    signature = re.search(r"signature=(.*)$", head)
    src = tmp_path / f"{name}.py"
    src.write_text(text)
    extra = ["--signature", signature.group(1).strip()] if signature else []
    r = subprocess.run([str(braid_binary()), "build", str(src), "-o", str(tmp_path), *extra], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    compiled = load_module(tmp_path / f"{name}.abi3.so", name)
    reference = load_module(src, f"{name}_ref")
    args, ref_args = reference.inputs(), reference.inputs()
    got, want = getattr(compiled, entry)(*args), getattr(reference, entry)(*ref_args)
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    # Results, then the arguments (written in place or not), must agree.
    for k, (g, w) in enumerate(list(zip(got, want)) + list(zip(args, ref_args))):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, (k, g.shape, w.shape, g.dtype, w.dtype)
        if w.dtype.kind in "biu":
            np.testing.assert_array_equal(g, w, err_msg=str(k))
        else:
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-8, err_msg=str(k))
    assert len(got) == len(want)


def load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_user_style_program_matches_numpy(tmp_path, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_program(tmp_path, name, PROGRAMS[name])


def test_sizes_related_only_at_run_time_are_checked_when_called(tmp_path):
    # C == ((H + 1) // 2) * W cannot be declared with one symbol: the call checks it.
    run_program(tmp_path, "dace_reshape_symbols", PROGRAMS["dace_reshape_symbols"])
    compiled = load_module(tmp_path / "dace_reshape_symbols.abi3.so", "dace_reshape_symbols")
    with pytest.raises(ValueError, match="shapes do not agree"):
        compiled.flatten_rows(np.ones((2, 4, 3)), np.ones(5))


def test_a_loop_copy_whose_other_name_is_used_after_the_loop_is_an_error(tmp_path):
    # In Python f and nxt are one array after the loop; Braid copies nxt into f's storage,
    # so writing nxt afterwards would not show in f: rejected at the use.
    text = ("import numpy as np\n\n#pythran export f(float64[:], int)\ndef f(x, T):\n    f = x.copy()\n"
            "    for t in range(T):\n        nxt = f * 2.0\n        f = nxt\n    nxt[0] = -100.0\n    return f, nxt\n")
    r = build(tmp_path, "split", text)
    assert r.returncode == 1
    assert "split.py:9:5: error: 'nxt' is the same array as 'f' after the loop" in r.stderr, r.stderr
