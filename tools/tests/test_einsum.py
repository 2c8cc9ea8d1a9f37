"""np.einsum end to end: one compiled function per subscripts string and dtype, called on
random operands whose sizes come from the labels (distinct sizes, all 1, one of them 0) and
compared with NumPy's np.einsum on the same operands: the same dtype and shape, values within
rtol=1e-5/atol=1e-8 (floats and complex numbers), integers exactly. Also views (a transpose or
diagonal is a view of the operand, as in NumPy), expression operands, size-1 broadcasting,
mixed dtypes, and the errors: compile-time ones located at the call, run-time shape
mismatches as ValueError."""

import zlib

import numpy as np
import pytest

from test_cli import load, run, write

# name -> subscripts. Ellipses stand for two broadcast dimensions in the operands here.
CASES = {
    "matmul": "ij,jk->ik",
    "matmul_implicit": "ij,jk",
    "matmul_bt": "ij,kj->ik",
    "matmul_at": "ji,jk->ik",
    "matmul_att": "ji,kj->ik",
    "matmul_out_t": "ij,jk->ki",
    "matvec": "ij,j->i",
    "matvec_t": "ji,j->i",
    "vecmat": "j,jk->k",
    "vecmat_t": "j,kj->k",
    "dot": "i,i->",
    "dot_implicit": "i,i",
    "trace": "ii",
    "trace_explicit": "ii->",
    "diagonal": "ii->i",
    "diagonal_3d": "iji->ij",
    "transpose": "ij->ji",
    "transpose_implicit": "ji",
    "identity": "ij",
    "permute3": "ijk->kij",
    "sum_all": "ij->",
    "sum_axis0": "ij->j",
    "sum_axis1": "ij->i",
    "sum_vector": "i->",
    "outer": "i,j->ij",
    "outer_implicit": "i,j",
    "outer_reversed": "i,j->ji",
    "outer3": "i,j,k->ijk",
    "hadamard": "ij,ij->ij",
    "row_dots": "ij,ij->i",
    "frobenius": "ij,ij->",
    "scale_rows": "ij,i->ij",
    "batched": "bij,bjk->bik",
    "batched_bt": "bij,bkj->bik",
    "batched_out": "bij,bjk->ikb",
    "batched_vec": "bij,bj->bi",
    "batched_trace": "bii->b",
    "chain3": "ij,jk,kl->il",
    "triple_dot": "i,i,i->",
    "weighted_matvec": "ij,j,j->i",
    "bilinear": "i,ij,j->",
    "diag_scale": "ii,i->i",
    "tensor_contract": "ijk,jkl->il",
    "uppercase": "Ba,aB",
    "uppercase_implicit": "aB,b",
    "spaces": " ij , jk -> ik ",
    "ellipsis_matvec": "...j,j->...",
    "ellipsis_implicit": "...ij,...jk",
    "ellipsis_sum": "i...->...",
    "ellipsis_middle": "i...j->j...i",
    "ellipsis_transpose": "...ij->...ji",
}

BASE_SIZES = {"i": 3, "j": 4, "k": 5, "l": 2, "b": 2, "a": 3, "B": 4}
ELLIPSIS = (2, 3)


def terms(subscripts):
    s = subscripts.replace(" ", "")
    return s.split("->")[0].split(",")


def shape_of(term, sizes):
    shape = []
    rest = term
    while rest:
        if rest.startswith("..."):
            shape += list(ELLIPSIS)
            rest = rest[3:]
        else:
            shape.append(sizes[rest[0]])
            rest = rest[1:]
    return tuple(shape)


def signature(name, subscripts, dtype):
    args = ", ".join(f"{dtype}[{','.join(':' * len(shape_of(t, BASE_SIZES)))}]" for t in terms(subscripts))
    return f"{name}({args})"


def source():
    lines = ["import numpy as np", ""]
    for name, subs in CASES.items():
        params = ", ".join(f"x{n}" for n in range(len(terms(subs))))
        lines += [f"def {name}({params}):", f"    return np.einsum({subs!r}, {params})", ""]
    return "\n".join(lines)


DTYPES = ["float64", "float32", "int64", "complex128"]


@pytest.fixture(scope="module")
def modules(tmp_path_factory):
    built = {}

    def get(dtype):
        if dtype not in built:
            d = tmp_path_factory.mktemp(f"einsum-{dtype}")
            f = write(d, f"ein_{dtype}.py", source())
            args = ["build", f, "-o", d]
            for name, subs in CASES.items():
                args += ["--signature", signature(name, subs, dtype)]
            r = run(*args)
            assert r.returncode == 0, r.stderr
            built[dtype] = load(d / f"ein_{dtype}.abi3.so")
        return built[dtype]

    return get


def operand(shape, dtype, rng):
    if dtype == "int64":
        return rng.integers(-5, 6, size=shape).astype(np.int64)
    if dtype == "float32":
        # Positive values: no cancellation, so float32 sums (accumulated in another order than
        # NumPy's) agree to a few ulps relative to the result, well within rtol=1e-5.
        return rng.uniform(0.5, 1.5, size=shape).astype(np.float32)
    x = rng.standard_normal(shape)
    if dtype == "complex128":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def check(got, want):
    got = np.asarray(got)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    if want.dtype.kind in "iub":
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-8)


def letters(subscripts):
    return sorted({c for c in subscripts if c.isalpha()})


def summed(subscripts):
    s = subscripts.replace(" ", "")
    if "->" in s:
        out = s.split("->")[1]
    else:
        out = [c for c in letters(s) if s.count(c) == 1]
    return [c for c in letters(s) if c not in out]


SCENARIOS = ["distinct", "ones", "zero"]


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(CASES))
def test_matches_numpy(modules, name, dtype, scenario):
    subs = CASES[name]
    sizes = dict(BASE_SIZES)
    if scenario == "ones":
        sizes = {c: 1 for c in sizes}
    elif scenario == "zero":
        sizes[letters(subs)[0]] = 0
    rng = np.random.default_rng(zlib.crc32(f"{name}/{dtype}/{scenario}".encode()))
    ops = [operand(shape_of(t, sizes), dtype, rng) for t in terms(subs)]
    before = [o.copy() for o in ops]
    got = getattr(modules(dtype), name)(*ops)
    check(got, np.einsum(subs, *ops))
    for o, b in zip(ops, before):
        np.testing.assert_array_equal(o, b)


@pytest.mark.parametrize("name", [n for n in CASES if summed(CASES[n])])
def test_empty_sum_is_zero(modules, name):
    """A summed index of size 0: every result element is an empty sum (BLAS with k = 0 too)."""
    subs = CASES[name]
    sizes = dict(BASE_SIZES, **{summed(subs)[0]: 0})
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    ops = [operand(shape_of(t, sizes), "float64", rng) for t in terms(subs)]
    want = np.einsum(subs, *ops)
    assert not np.any(want)
    check(getattr(modules("float64"), name)(*ops), want)


PROGRAMS = """\
import numpy as np
import braid as br

N, M, K = br.symbol("N"), br.symbol("M"), br.symbol("K")


@br.program
def diagonal_view(A: br.float64[N, N]):
    d = np.einsum('ii->i', A)
    d[:] = 0.0


@br.program
def transposed_view(A: br.float64[N, M], B: br.float64[M, N]):
    t = np.einsum('ij->ji', A)
    t[0, 0] = 7.0
    B[:] = t + 1.0


@br.program
def expressions(A: br.float64[N, M], B: br.float64[M, K], x: br.float64[K]):
    return np.einsum('ij,jk->ik', 2.0 * A, B + 1.0), np.einsum('ij,j', B, np.sin(x), optimize=True)


@br.program
def broadcast_one(A: br.float64[N, 1], B: br.float64[M, K], y: br.float64[1]):
    return np.einsum('ij,jk->ik', A, B), np.einsum('i,i->', y, A[:, 0])


@br.program
def optimize_forms(A: br.float64[N, M], B: br.float64[M, K]):
    a = np.einsum('ij,jk->ik', A, B, optimize=False)
    b = np.einsum('ij,jk->ik', A, B, optimize='greedy')
    c = np.einsum('ij,jk->ik', A, B, optimize='optimal')
    return a + b + c


SUBSCRIPTS = 'ij->ji'


@br.program
def named_subscripts(A: br.float64[N, M], B: br.float64[M, N]):
    s = 'ij,jk'
    return np.einsum(s, A, B), np.einsum(SUBSCRIPTS, A)


@br.program
def in_loop(A: br.float64[K, N, M], x: br.float64[M], out: br.float64[K, N]):
    for k in range(K):
        out[k] = np.einsum('ij,j->i', A[k], x)
"""

MIXED = """\
import numpy as np

#pythran export int_float(int32[:,:], float32[:,:])
def int_float(A, B):
    return np.einsum('ij,jk->ik', A, B)

#pythran export int8_sum(int8[:])
def int8_sum(x):
    return np.einsum('i->', x), np.einsum('i,i', x, x)

#pythran export int32_matmul(int32[:,:], int32[:,:])
def int32_matmul(A, B):
    # A is n x m, B is m x m
    return np.einsum('ij,jk', A, B), np.einsum('ij,kj->ik', A, B)

#pythran export bools(bool[:,:], bool[:])
def bools(A, x):
    return np.einsum('ij,j->i', A, x), np.einsum('ij,ij', A, A), np.einsum('ij->ji', A)

#pythran export complex_float(complex128[:,:], float64[:])
def complex_float(A, x):
    return np.einsum('ij,j', A, x), np.einsum('ii', A)

#pythran export with_scalar(float32[:])
def with_scalar(x):
    return np.einsum(',i->i', 2, x)

#pythran export chain_mixed(int8[:,:], int8[:,:], float64[:,:])
def chain_mixed(A, B, C):
    return np.einsum('ij,jk,kl->il', A, B, C)

#pythran export chain_bool(bool[:,:], bool[:,:], bool[:,:])
def chain_bool(A, B, C):
    return np.einsum('ij,jk,kl->il', A, B, C), np.einsum('ij,jk,kl->', A, B, C)

#pythran export chain_int8(int8[:,:], int8[:,:], int8[:])
def chain_int8(A, B, x):
    return np.einsum('ij,jk,k->i', A, B, x)

#pythran export ellipsis_ranks(float64[:,:,:], float64[:,:], float64[:])
def ellipsis_ranks(A, B, x):
    return np.einsum('...ij,...jk->...ik', A, B), np.einsum('...i,...i->...', A, x), np.einsum('i...,i', B, B[:, 0])

#pythran export checked(float64[:,:], float64[:,:])
def checked(A, B):
    return np.einsum('ij,jk->ik', A, B), np.einsum('ii->i', B)

#pythran export checked_general(float64[:,:], float64[:,:], float64[:])
def checked_general(A, B, x):
    return np.einsum('ij,jk,k->i', A, B, x)
"""


def built(tmp_path_factory, stem, source):
    """The compiled module of `source`, named `stem`."""
    d = tmp_path_factory.mktemp(stem)
    r = run("build", write(d, f"{stem}.py", source), "-o", d)
    assert r.returncode == 0, r.stderr
    return load(d / f"{stem}.abi3.so")


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    return built(tmp_path_factory, "einprog", PROGRAMS)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    return built(tmp_path_factory, "einmixed", MIXED)


def test_diagonal_is_a_writeable_view(programs):
    A = np.arange(16.0).reshape(4, 4)
    want = A.copy()
    np.einsum("ii->i", want)[:] = 0.0
    programs.diagonal_view(A)
    np.testing.assert_array_equal(A, want)


def test_transpose_is_a_view(programs):
    rng = np.random.default_rng(1)
    A, B = rng.standard_normal((3, 5)), np.zeros((5, 3))
    A2 = A.copy()
    t = np.einsum("ij->ji", A2)
    t[0, 0] = 7.0
    programs.transposed_view(A, B)
    np.testing.assert_array_equal(A, A2)
    np.testing.assert_array_equal(B, t + 1.0)


def test_expression_operands(programs):
    rng = np.random.default_rng(2)
    A, B, x = rng.standard_normal((3, 4)), rng.standard_normal((4, 5)), rng.standard_normal(5)
    p, q = programs.expressions(A, B, x)
    check(p, np.einsum("ij,jk->ik", 2.0 * A, B + 1.0))
    check(q, np.einsum("ij,j", B, np.sin(x)))


def test_declared_size_one_broadcasts(programs):
    rng = np.random.default_rng(3)
    A, B, y = rng.standard_normal((3, 1)), rng.standard_normal((4, 5)), rng.standard_normal(1)
    p, q = programs.broadcast_one(A, B, y)
    check(p, np.einsum("ij,jk->ik", A, B))
    check(np.asarray(q), np.asarray(np.einsum("i,i->", y, A[:, 0])))


def test_optimize_is_accepted(programs):
    rng = np.random.default_rng(4)
    A, B = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    check(programs.optimize_forms(A, B), 3 * np.einsum("ij,jk->ik", A, B))


def test_subscripts_from_names(programs):
    rng = np.random.default_rng(10)
    A, B = rng.standard_normal((3, 4)), rng.standard_normal((4, 3))
    p, t = programs.named_subscripts(A, B)
    check(p, np.einsum("ij,jk", A, B))
    check(t, np.einsum("ij->ji", A))


def test_in_loop(programs):
    rng = np.random.default_rng(5)
    A, x, out = rng.standard_normal((2, 3, 4)), rng.standard_normal(4), np.zeros((2, 3))
    programs.in_loop(A, x, out)
    check(out, np.einsum("kij,j->ki", A, x))


def test_mixed_dtypes_promote(mixed):
    rng = np.random.default_rng(6)
    A, B = rng.integers(-9, 9, (3, 4)).astype(np.int32), rng.standard_normal((4, 2)).astype(np.float32)
    check(mixed.int_float(A, B), np.einsum("ij,jk->ik", A, B))


def test_small_integers_wrap_as_numpy(mixed):
    x = np.array([100, 100, 27], dtype=np.int8)
    s, d = mixed.int8_sum(x)
    check(np.asarray(s), np.asarray(np.einsum("i->", x)))
    check(np.asarray(d), np.asarray(np.einsum("i,i", x, x)))
    assert np.asarray(s).dtype == np.int8


def test_int32_products(mixed):
    rng = np.random.default_rng(7)
    A, B = rng.integers(-50, 50, (4, 3)).astype(np.int32), rng.integers(-50, 50, (3, 3)).astype(np.int32)
    p, q = mixed.int32_matmul(A, B)
    check(p, np.einsum("ij,jk", A, B))
    check(q, np.einsum("ij,kj->ik", A, B))


def test_booleans_are_and_or(mixed):
    rng = np.random.default_rng(8)
    A, x = rng.random((4, 3)) < 0.3, rng.random(3) < 0.5
    p, q, t = mixed.bools(A, x)
    check(p, np.einsum("ij,j->i", A, x))
    check(np.asarray(q), np.asarray(np.einsum("ij,ij", A, A)))
    check(t, np.einsum("ij->ji", A))
    z = np.zeros((2, 3), dtype=bool)
    check(np.asarray(mixed.bools(z, np.zeros(3, dtype=bool))[1]), np.asarray(np.einsum("ij,ij", z, z)))


def test_complex_with_real(mixed):
    rng = np.random.default_rng(9)
    A = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    x = rng.standard_normal(3)
    p, t = mixed.complex_float(A, x)
    check(p, np.einsum("ij,j", A, x))
    check(np.asarray(t), np.asarray(np.einsum("ii", A)))


def test_chains_compute_in_the_result_type(mixed):
    rng = np.random.default_rng(11)
    A, B = rng.integers(-100, 100, (3, 4)).astype(np.int8), rng.integers(-100, 100, (4, 5)).astype(np.int8)
    C = rng.standard_normal((5, 2))
    # int8 products would wrap; NumPy computes everything in float64 here.
    check(mixed.chain_mixed(A, B, C), np.einsum("ij,jk,kl->il", A, B, C))
    x = rng.integers(-100, 100, 5).astype(np.int8)
    check(mixed.chain_int8(A, B, x), np.einsum("ij,jk,k->i", A, B, x))
    P, Q, R = rng.random((3, 4)) < 0.3, rng.random((4, 5)) < 0.3, rng.random((5, 2)) < 0.3
    p, q = mixed.chain_bool(P, Q, R)
    check(p, np.einsum("ij,jk,kl->il", P, Q, R))
    check(np.asarray(q), np.asarray(np.einsum("ij,jk,kl->", P, Q, R)))


def test_ellipses_of_different_ranks_broadcast(mixed):
    rng = np.random.default_rng(12)
    A, B, x = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5)), rng.standard_normal(4)
    p, q, r = mixed.ellipsis_ranks(A, B, x)
    check(p, np.einsum("...ij,...jk->...ik", A, B))
    check(q, np.einsum("...i,...i->...", A, x))
    check(r, np.einsum("i...,i", B, B[:, 0]))


def test_python_scalar_operand_is_strong(mixed):
    x = np.arange(3, dtype=np.float32)
    check(mixed.with_scalar(x), np.einsum(",i->i", 2, x))


@pytest.mark.parametrize("shapes", [((3, 4), (5, 5)), ((3, 4), (4, 3))], ids=["contracted", "diagonal"])
def test_runtime_size_mismatch_raises_value_error(mixed, shapes):
    A, B = np.ones(shapes[0]), np.ones(shapes[1])
    with pytest.raises(ValueError):
        np.einsum("ij,jk->ik", A, B), np.einsum("ii->i", B)
    with pytest.raises(ValueError):
        mixed.checked(A, B)


def test_runtime_size_mismatch_in_loop_nest(mixed):
    with pytest.raises(ValueError):
        mixed.checked_general(np.ones((2, 3)), np.ones((3, 4)), np.ones(5))
    check(mixed.checked_general(np.ones((2, 3)), np.ones((3, 4)), np.ones(4)),
          np.einsum("ij,jk,k->i", np.ones((2, 3)), np.ones((3, 4)), np.ones(4)))


ERRORS = [
    ("return np.einsum(1, A)", "string literal"),
    ("return np.einsum(A, [0, 1])", "string literal"),
    ("return np.einsum('ij,jk->ik', A)", "fewer operands"),
    ("return np.einsum('ij', A, A)", "more operands"),
    ("return np.einsum('i1', A)", "invalid subscript '1'"),
    ("return np.einsum('ij->ik', A)", "output subscript 'k' which never appeared"),
    ("return np.einsum('ij->ii', A)", "output subscript 'i' multiple times"),
    ("return np.einsum('ijk', A)", "too many subscripts for operand 0"),
    ("return np.einsum('i', A)", "no '...' ellipsis"),
    ("return np.einsum('i.j', A)", "not part of an ellipsis"),
    ("return np.einsum('...i->i', A)", "no '...' ellipsis provided"),
    ("return np.einsum('ij', A, out=A)", "out= is not supported"),
    ("return np.einsum('ij', A, dtype=np.float32)", "dtype= is not supported"),
    ("return np.einsum('ij', A, optimize='fast')", "optimize= must be"),
]


@pytest.mark.parametrize("body, message", ERRORS)
def test_compile_errors_are_located(tmp_path, body, message):
    f = write(tmp_path, "bad.py", f"import numpy as np\n#pythran export f(float64[:,:])\ndef f(A):\n    {body}\n")
    r = run("build", f, "-o", tmp_path)
    assert r.returncode == 1, r.stderr
    assert f"{f}:4:12: error: " in r.stderr and message in r.stderr, r.stderr


def test_known_size_mismatch_is_a_compile_error(tmp_path):
    src = ("import numpy as np\nimport braid as br\n\n@br.program\ndef f(A: br.float64[3, 4], B: br.float64[5, 2]):\n"
           "    return np.einsum('ij,jk->ik', A, B)\n")
    f = write(tmp_path, "mismatch.py", src)
    r = run("build", f, "-o", tmp_path)
    assert r.returncode == 1
    assert f"{f}:6:12: error: np.einsum('ij,jk->ik'): index 'j' has size 4" in r.stderr, r.stderr
