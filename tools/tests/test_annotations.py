"""The annotation vocabulary under plain CPython: symbols, array types, @program, map, dace alias."""

import importlib.util
import inspect
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import braid
import braid as br
from braid.symbolic import solve_for

TOOLS = Path(__file__).resolve().parents[1]

N = br.symbol("N")
M = br.symbol("M")
K = br.symbol("K")


# --- symbols and expressions -----------------------------------------------------------


def test_symbol_repr_and_expressions():
    assert repr(N) == "N"
    assert repr(N + 1) == "N + 1"
    assert repr(2 * N - 1) == "2 * N - 1"
    assert repr((N + 1) * M) == "(N + 1) * M"
    assert repr(N - (M + 1)) == "N - (M + 1)"
    assert repr(N // 2) == "N // 2"
    assert repr(-N) == "-N"
    assert repr(N + -3) == "N - 3"
    assert N + 0 is N and N * 1 is N


def test_expressions_compare_structurally_while_unbound():
    assert N + 1 == N + 1
    assert N + 1 != N + 2
    assert hash(N * M) == hash(N * M)
    assert br.symbol("N") == N
    assert {N + 1: "a"}[N + 1] == "a"


def test_unbound_symbol_used_as_number_raises_clearly():
    with pytest.raises(br.UnboundSymbolError, match=r"N has no value.*N=\.\.\."):
        range(N)
    with pytest.raises(br.UnboundSymbolError, match="N"):
        int(N + 1)
    with pytest.raises(br.UnboundSymbolError):
        np.zeros((N, 3))
    with pytest.raises(br.UnboundSymbolError):
        N < 3


def test_symbol_accepts_and_ignores_a_dtype():
    s = br.symbol("S", br.int64)
    assert isinstance(s, br.Symbol) and s.name == "S"
    with pytest.raises(ValueError):
        br.symbol("not a name")


def test_bound_symbols_behave_like_ints():
    x = np.arange(6.0)
    with br.bind(N=6, M=2):
        assert int(N) == 6 and N + 1 == 7 and type(N + 1) is int and type(N * M) is int
        assert list(range(M)) == [0, 1]
        assert np.zeros((N, M)).shape == (6, 2)
        assert x[: N - 1].shape == (5,)
        assert x[N - 1] == 5.0
        y = x / N
        assert y.dtype == np.float64 and y[-1] == 5.0 / 6.0
        assert (N * x).dtype == np.float64 and (x * N)[1] == 6.0
        assert np.float64(2.0) * N == 12.0
        assert np.sqrt(N) == pytest.approx(6**0.5)
        assert N / 4 == 1.5 and N // 4 == 1 and N % 4 == 2
        assert N > 5 and N <= 6 and N == 6 and bool(N)
        assert f"{N:3d}" == "  6" and str(N) == "6"
        assert N & 3 == 2 and N >> 1 == 3
    assert not N.is_bound


def test_solve_for_affine_and_rejects_non_affine():
    assert solve_for(N + 4, "N", 10, {}) == 6
    assert solve_for(2 * N - 1, "N", 9, {}) == 5
    assert solve_for(2 * N, "N", 9, {}) is None
    assert solve_for(N * M, "N", 12, {"M": 3}) == 4
    assert solve_for(N // 2, "N", 3, {}) is None


# --- dtypes and array types -------------------------------------------------------------


def test_dtypes_subscript_to_array_types():
    t = br.float64[N, M + 1]
    assert isinstance(t, br.ArrayType)
    assert t.dtype is br.float64 and t.ndim == 2
    assert t.shape == (N, M + 1)
    assert t.symbols == {"N", "M"}
    assert repr(t) == "float64[N, M + 1]"
    assert br.int32[5].shape == (5,)
    assert br.float32[:, :].shape == (None, None)
    assert br.float64[N, M] == br.float64[N, M]
    assert br.float64[N, M] != br.float32[N, M]


def test_dtypes_are_callable_and_usable_as_numpy_dtypes():
    v = br.float64(3)
    assert type(v) is np.float64 and v == 3.0
    assert br.uint8(300 % 256) == 44
    assert np.zeros(2, dtype=br.float32).dtype == np.float32
    assert np.dtype(br.complex128) == np.complex128
    assert braid.bool is br.bool_ and br.bool_.dtype == np.bool_
    for name in ("float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                 "uint64", "bool_", "complex64", "complex128"):
        assert getattr(br, name).dtype == np.dtype(name)


# --- @program ----------------------------------------------------------------------------


@br.program
def _shapes(A: br.float64[N, M], x: br.float64[M]):
    return int(N), int(M)


@br.program
def _halo(A: br.float64[N + 4, M], out: br.float64[N, M]):
    out[:] = A[2:N + 2, :]
    return N + 0


@br.program(auto_optimize=True, device="cpu")
def _sum_rows(A: br.float64[N, M]):
    out = np.zeros(N)
    for i in range(N):
        for j in range(M):
            out[i] += A[i, j]
    return out


def test_program_binds_symbols_from_shapes():
    assert _shapes(np.ones((3, 5)), np.ones(5)) == (3, 5)
    assert _shapes(np.ones((7, 2)), x=np.ones(2)) == (7, 2)
    assert not N.is_bound and not M.is_bound


def test_program_binds_symbol_from_expression_dimension():
    a = np.arange(9 * 2, dtype=np.float64).reshape(9, 2)
    out = np.zeros((5, 2))
    assert _halo(a, out) == 5
    assert np.array_equal(out, a[2:7])


def test_program_uses_symbols_as_values():
    a = np.arange(12.0).reshape(3, 4)
    assert np.array_equal(_sum_rows(a), a.sum(axis=1))


def test_program_accepts_symbol_keywords_and_checks_them():
    assert _shapes(A=np.ones((4, 2)), x=np.ones(2), N=4, M=2) == (4, 2)
    with pytest.raises(ValueError, match=r"A\.shape\[0\] = 4 .*, but N = 5 \(from keyword argument N=5\)"):
        _shapes(A=np.ones((4, 2)), x=np.ones(2), N=5)


def test_program_rejects_inconsistent_shapes():
    with pytest.raises(ValueError, match=r"x\.shape\[0\] = 4.*M = 3"):
        _shapes(np.ones((2, 3)), np.ones(4))
    with pytest.raises(ValueError, match=r"out\.shape\[0\] = 2 .*, but N = 5 \(from A\.shape\[0\] = 9"):
        _halo(np.ones((9, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"A\.shape\[0\] = 9 .*, but N \+ 4 = 7 with N = 3 \(from keyword"):
        _halo(np.ones((9, 2)), np.zeros((3, 2)), N=3)
    with pytest.raises(ValueError, match="2-D"):
        _shapes(np.ones(3), np.ones(3))


def test_program_rejects_unknown_keywords():
    with pytest.raises(TypeError, match="unexpected keyword argument 'Q'"):
        _shapes(np.ones((2, 3)), np.ones(3), Q=1)


def test_program_keeps_name_wrapped_and_signature():
    assert _sum_rows.__name__ == "_sum_rows"
    assert _sum_rows.__wrapped__.__name__ == "_sum_rows"
    assert list(inspect.signature(_shapes).parameters) == ["A", "x"]
    assert inspect.signature(_shapes).parameters["A"].annotation == br.float64[N, M]
    info = br.program_info(_shapes)
    assert set(info.params) == {"A", "x"} and {"N", "M"} <= info.symbols


def test_integer_parameter_named_like_a_symbol_binds_it():
    T = br.symbol("T")

    @br.program
    def steps(T: br.int64, A: br.float64[T]):
        return T

    assert steps(3, np.ones(3)) == 3
    with pytest.raises(ValueError, match=r"A\.shape\[0\] = 3 \(A: float64\[T\]\), but T = 4 \(from argument T=4\)"):
        steps(4, np.ones(3))


def test_nested_programs_bind_their_own_symbols():
    @br.program
    def inner(v: br.float64[N]):
        return int(N)

    @br.program
    def outer(A: br.float64[N, M]):
        inside = inner(A[0, :])  # length M, bound to inner's N
        return int(N), inside, int(N)

    assert outer(np.ones((3, 8))) == (3, 8, 3)


def test_string_annotations_are_resolved(tmp_path):
    source = textwrap.dedent(
        """
        from __future__ import annotations
        import braid as br
        N = br.symbol("N")

        @br.program
        def f(A: br.float64[N + 1]):
            return int(N)
        """
    )
    path = tmp_path / "lazy_annotations.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("lazy_annotations", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.f(np.ones(6)) == 5


# --- map -----------------------------------------------------------------------------------


def test_map_iterates_the_cartesian_product_in_order():
    assert list(br.map[0:2, 0:3]) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert list(br.map[1:4]) == [1, 2, 3]
    assert list(br.map[0:6:2]) == [0, 2, 4]
    assert list(br.map[0:2, 0:0]) == []
    assert len(br.map[0:3, 0:4, 0:5]) == 60
    assert all(type(i) is int for i in br.map[0:3])


def test_map_with_symbols_inside_a_program():
    @br.program
    def fill(A: br.float64[N, M]):
        for i, j in br.map[0:N, 0:M]:
            A[i, j] = 10 * i + j

    a = np.zeros((2, 3))
    fill(a)
    assert np.array_equal(a, [[0, 1, 2], [10, 11, 12]])


def test_map_rejects_non_ranges():
    with pytest.raises(TypeError):
        br.map[3]
    with pytest.raises(TypeError):
        br.map[0:]


# --- dace alias ------------------------------------------------------------------------------


def test_dace_alias_in_a_fresh_interpreter():
    code = textwrap.dedent(
        """
        import importlib.util, sys
        import braid
        real = importlib.util.find_spec("dace") is not None
        installed = braid.install_dace_alias()
        if real:
            assert not installed
            print("real dace")
        else:
            assert installed and braid.install_dace_alias()
            import dace as dc
            import numpy as np
            assert dc is braid
            N = dc.symbol("N")

            @dc.program
            def double(A: dc.float64[N], B: dc.int32[N]):
                for i in dc.map[0:N]:
                    A[i] = 2.0 * A[i] + B[i]

            a = np.ones(4)
            double(a, np.arange(4, dtype=np.int32))
            assert list(a) == [2.0, 3.0, 4.0, 5.0]
            assert dc.bool is dc.bool_ and dc.int32.dtype == np.int32
            print("alias")
        """
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TOOLS), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in ("alias", "real dace")


def test_dace_alias_leaves_an_existing_dace_module_alone(monkeypatch):
    sentinel = type(sys)("dace")
    monkeypatch.setitem(sys.modules, "dace", sentinel)
    assert braid.install_dace_alias() is False
    assert sys.modules["dace"] is sentinel
