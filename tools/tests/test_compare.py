"""braid.compare without the Braid compiler: header parsing, value comparison, and the whole tool
run against stand-in modules (a Python namespace, and a small hand-written C extension)."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

from braid.compare import (
    HeaderError,
    compare_file,
    compare_values,
    find_extension,
    format_table,
    main,
    parse_header,
    weak_scalar_hint,
)

TOOLS = Path(__file__).resolve().parents[1]

AXPY_SOURCE = textwrap.dedent(
    """\
    # braid: entry=axpy
    # braid: preset tiny N=7
    # braid: preset default N=1000
    # braid: tolerance rtol=1e-6 atol=1e-9
    # braid: why only a stand-in for the tests
    # braid: targets cpu opencl
    \"\"\"y += alpha * x, and the sum of y.\"\"\"

    import numpy as np
    import braid as br

    N = br.symbol("N")


    @br.program
    def axpy(alpha: br.float64, x: br.float64[N], y: br.float64[N]):
        y += alpha * x
        return np.sum(y)


    def initialize(N):
        rng = np.random.default_rng(42)
        return {"alpha": 0.5, "x": rng.random(N), "y": rng.random(N)}
    """
)


@pytest.fixture
def axpy_file(tmp_path):
    path = tmp_path / "axpy.py"
    path.write_text(AXPY_SOURCE)
    return path


def _axpy(alpha, x, y, bump_at=None, dtype=None):
    y += alpha * x
    if bump_at is not None:
        y[bump_at] += 1e-3
    return np.sum(y) if dtype is None else dtype(np.sum(y))


# --- header ---------------------------------------------------------------------------------


def test_parse_header(axpy_file):
    h = parse_header(axpy_file)
    assert h.entry == "axpy"
    assert h.presets == {"tiny": {"N": 7}, "default": {"N": 1000}}
    assert h.targets == ["cpu", "opencl"]
    assert (h.rtol, h.atol) == (1e-6, 1e-9)
    assert h.why == "only a stand-in for the tests"
    assert not h.loosened
    assert h.sizes("tiny") == {"N": 7}
    with pytest.raises(HeaderError, match="no preset 'huge'"):
        h.sizes("huge")


def test_header_defaults(tmp_path):
    path = tmp_path / "f.py"
    path.write_text("# braid: entry=f\n\nimport numpy\n# braid: targets mpi\n")
    h = parse_header(path)
    assert h.targets == ["cpu"] and (h.rtol, h.atol) == (1e-5, 1e-8) and not h.tolerance_given


@pytest.mark.parametrize(
    "text, message",
    [
        ("# braid: preset tiny N=7\n", "no '# braid: entry=FUNCTION'"),
        ("# braid: entry=f\n# braid: targets gpu\n", "unknown target"),
        ("# braid: entry=f\n# braid: preset tiny N=x\n", "N must be a number"),
        ("# braid: entry=f\n# braid: tolerance rtol=1e-5 btol=3\n", "tolerance"),
        ("# braid: entry=f\n# braid: color blue\n", "unknown header key 'color'"),
        ("# braid: entry=f\n# braid: preset a N=1\n# braid: preset a N=2\n", "given twice"),
    ],
)
def test_header_errors(tmp_path, text, message):
    path = tmp_path / "f.py"
    path.write_text(text)
    with pytest.raises(HeaderError, match=message):
        parse_header(path)


# --- comparing values -------------------------------------------------------------------------


def test_equal_and_close_arrays_match():
    a = np.linspace(0.0, 1.0, 10)
    (check,) = compare_values("return", a, a * (1 + 1e-9))
    assert check.ok and 0 < check.max_rel_err < 2e-9
    (check,) = compare_values("return", a, a.copy())
    assert check.ok and check.max_abs_err == 0.0


def test_mismatch_reports_first_differing_index():
    ref = np.zeros((3, 4))
    got = ref.copy()
    got[1, 2] = 0.5
    got[2, 3] = 0.25
    (check,) = compare_values("argument C", ref, got)
    assert not check.ok
    assert "2 of 12 elements differ" in check.message
    assert "first at index [1, 2]" in check.message
    assert check.max_abs_err == 0.5


def test_dtype_and_shape_mismatch_are_explicit():
    ref = np.ones(3)
    (check,) = compare_values("return", ref, ref.astype(np.float32))
    assert not check.ok and "dtype mismatch: reference float64, braid float32" in check.message
    (check,) = compare_values("return", ref, np.ones(4))
    assert not check.ok and "shape mismatch" in check.message
    (check,) = compare_values("return", ref, 1.0)
    assert not check.ok and "braid returned float" in check.message


def test_integers_must_match_exactly():
    ref = np.array([1, 2, 3], dtype=np.int64)
    (check,) = compare_values("return", ref, np.array([1, 2, 4], dtype=np.int64), rtol=1.0, atol=10.0)
    assert not check.ok and "exactly" in check.message and "[2]" in check.message
    (check,) = compare_values("return", 40000, 40001, rtol=1.0, atol=10.0)
    assert not check.ok
    (check,) = compare_values("return", 40000, np.int64(40000))
    assert check.ok
    (check,) = compare_values("return", np.array([True, False]), np.array([True, True]))
    assert not check.ok


def test_scalar_kinds_must_agree():
    (check,) = compare_values("return", 3, 3.0)
    assert not check.ok and "type mismatch: reference integer" in check.message
    (check,) = compare_values("return", 1.0, 1.0 + 1e-12)
    assert check.ok
    (check,) = compare_values("return", np.float32(1.0), np.float64(1.0))
    assert not check.ok and "dtype mismatch" in check.message


def test_tuples_none_and_nan():
    checks = compare_values("return", (np.ones(2), 2.0), (np.ones(2), 2.0))
    assert [c.name for c in checks] == ["return[0]", "return[1]"] and all(c.ok for c in checks)
    (check,) = compare_values("return", (1.0, 2.0), (1.0,))
    assert not check.ok
    assert compare_values("return", None, None)[0].ok
    assert not compare_values("return", None, np.ones(1))[0].ok
    nan = np.array([np.nan, 1.0])
    assert compare_values("return", nan, nan.copy())[0].ok
    assert not compare_values("return", np.array([0.0, 1.0]), nan)[0].ok


# --- compare_file against stand-in modules ---------------------------------------------------


def test_compare_file_matching_module(axpy_file):
    result = compare_file(axpy_file, module=types.SimpleNamespace(axpy=_axpy), preset="tiny", repeat=3)
    assert result.ok, result.messages()
    assert [c.name for c in result.checks] == ["return", "argument x", "argument y"]
    assert result.reference_time > 0 and result.braid_time > 0 and result.speedup > 0
    table = format_table([result])
    assert "CPython/NumPy s" in table and "Braid s" in table and "OK" in table
    payload = result.to_dict()
    json.dumps(payload)
    assert payload["ok"] and payload["sizes"] == {"N": 7}


def test_compare_file_detects_wrong_in_place_output(axpy_file):
    wrong = types.SimpleNamespace(axpy=lambda alpha, x, y: _axpy(alpha, x, y, bump_at=4))
    result = compare_file(axpy_file, module=wrong, preset="tiny", repeat=0)
    assert not result.ok and result.status == "MISMATCH"
    bad = {c.name for c in result.mismatches}
    assert bad == {"return", "argument y"}
    text = "\n".join(result.messages())
    assert "argument y: 1 of 7 elements differ" in text and "first at index [4]" in text
    assert result.reference_time is None


def test_compare_file_reports_wrong_return_dtype(axpy_file):
    wrong = types.SimpleNamespace(axpy=lambda alpha, x, y: _axpy(alpha, x, y, dtype=np.float32))
    result = compare_file(axpy_file, module=wrong, preset="tiny", repeat=0)
    assert not result.ok
    assert "dtype mismatch: reference float64, braid float32" in result.messages()[0]


def test_dtype_mismatch_explains_python_scalars_for_annotated_parameters(axpy_file):
    # initialize() passes alpha=0.5, a Python float, for `alpha: br.float64`.
    wrong = types.SimpleNamespace(axpy=lambda alpha, x, y: _axpy(alpha, x, y, dtype=np.float32))
    message = compare_file(axpy_file, module=wrong, preset="tiny", repeat=0).messages()[0]
    assert "dtype mismatch" in message
    assert "the reference received Python scalars for 'alpha' (float64)" in message
    assert "annotate them float/int/complex, or pass NumPy scalars" in message


def test_weak_scalar_hint_names_only_python_scalars_of_annotated_numpy_types():
    import braid as br

    N = br.symbol("N")

    @br.program
    def f(a: br.float64, b: float, c: br.int32, d: br.bool_, x: br.float32[N]):
        return x

    x = np.ones(3, dtype=np.float32)
    hint = weak_scalar_hint(f, {"a": 1.0, "b": 2.0, "c": 3, "d": True, "x": x})
    assert "'a' (float64), 'c' (int32):" in hint and "'b'" not in hint and "'d'" not in hint
    assert weak_scalar_hint(f, {"a": np.float64(1.0), "b": 2.0, "c": np.int32(3), "d": True, "x": x}) == ""
    assert weak_scalar_hint(lambda a, x: x, {"a": 1.0, "x": x}) == ""


def test_compare_file_reports_a_failing_call(axpy_file):
    def broken(alpha, x, y):
        raise RuntimeError("native code returned 3")

    result = compare_file(axpy_file, module=types.SimpleNamespace(axpy=broken), preset="tiny", repeat=0)
    assert not result.ok and result.status == "ERROR"
    assert "RuntimeError: native code returned 3" in result.messages()[0]
    result = compare_file(axpy_file, module=types.SimpleNamespace(other=broken), preset="tiny", repeat=0)
    assert "no function 'axpy'" in result.error


def test_size_override(axpy_file):
    result = compare_file(axpy_file, module=types.SimpleNamespace(axpy=_axpy), preset="tiny", sizes={"N": 12},
                          repeat=0)
    assert result.ok and result.checks[1].shape == (12,)


def test_missing_module_is_a_setup_error(axpy_file, tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="no compiled module axpy"):
        find_extension(tmp_path, "axpy")
    assert main([str(axpy_file), "--module-dir", str(tmp_path), "--preset", "tiny"]) == 2
    assert "no compiled module axpy" in capsys.readouterr().err


# --- the command line against a real (hand-written) extension module --------------------------

AXPY_C = textwrap.dedent(
    """\
    #define Py_LIMITED_API 0x030B0000
    #include <Python.h>

    static PyObject *axpy(PyObject *self, PyObject *args, PyObject *kw) {
        static char *names[] = {"alpha", "x", "y", NULL};
        double alpha;
        PyObject *xo, *yo;
        if (!PyArg_ParseTupleAndKeywords(args, kw, "dOO", names, &alpha, &xo, &yo)) return NULL;
        Py_buffer xb, yb;
        if (PyObject_GetBuffer(xo, &xb, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return NULL;
        if (PyObject_GetBuffer(yo, &yb, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | PyBUF_WRITABLE) < 0) {
            PyBuffer_Release(&xb);
            return NULL;
        }
        Py_ssize_t n = yb.len / (Py_ssize_t)sizeof(double);
        double *x = xb.buf, *y = yb.buf, s = 0.0;
        for (Py_ssize_t i = 0; i < n; i++) {
            y[i] += alpha * x[i];
    #ifdef WRONG
            if (i == 5) y[i] += 0.125;
    #endif
            s += y[i];
        }
        PyBuffer_Release(&xb);
        PyBuffer_Release(&yb);
        return PyFloat_FromDouble(s);
    }

    static PyMethodDef methods[] = {
        {"axpy", (PyCFunction)(void (*)(void))axpy, METH_VARARGS | METH_KEYWORDS, "y += alpha * x"},
        {NULL, NULL, 0, NULL},
    };
    static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "axpy", NULL, -1, methods};
    PyMODINIT_FUNC PyInit_axpy(void) { return PyModule_Create(&module); }
    """
)


def _build_axpy(tmp_path, wrong):
    cc = shutil.which("cc") or shutil.which("gcc")
    include = sysconfig.get_paths()["include"]
    if cc is None or not Path(include, "Python.h").is_file():
        pytest.skip("needs a C compiler and Python.h to build a stand-in extension module")
    out = tmp_path / ("wrong" if wrong else "right")
    out.mkdir()
    src = tmp_path / "axpy.c"
    src.write_text(AXPY_C)
    cmd = [cc, "-shared", "-fPIC", "-O1", "-I", include, str(src), "-o", str(out / "axpy.abi3.so")]
    if wrong:
        cmd.insert(1, "-DWRONG")
    subprocess.run(cmd, check=True)
    return out


def _run_cli(*args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TOOLS), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "braid.compare", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=300)


def test_cli_with_a_compiled_module(axpy_file, tmp_path):
    good = _build_axpy(tmp_path, wrong=False)
    done = _run_cli(axpy_file, "--module-dir", good, "--preset", "default", "--repeat", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "axpy" in done.stdout and "OK" in done.stdout and "speedup" in done.stdout

    done = _run_cli(axpy_file, "--module-dir", good, "--preset", "tiny", "--size", "N=33", "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["ok"] and payload["sizes"] == {"N": 33} and payload["module"].endswith("axpy.abi3.so")


def test_cli_exit_1_on_mismatch(axpy_file, tmp_path):
    bad = _build_axpy(tmp_path, wrong=True)
    done = _run_cli(axpy_file, "--module-dir", bad, "--preset", "tiny", "--repeat", "1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "MISMATCH" in done.stdout
    assert "argument y: 1 of 7 elements differ" in done.stdout and "first at index [5]" in done.stdout


def test_cli_under_mpi_prints_on_rank_0_only(axpy_file, tmp_path):
    good = _build_axpy(tmp_path, wrong=False)
    env_rank1 = {**os.environ, "PMI_RANK": "1", "PMI_SIZE": "2",
                 "PYTHONPATH": os.pathsep.join([str(TOOLS), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "braid.compare", str(axpy_file), "--module-dir", str(good),
                           "--preset", "tiny", "--repeat", "1"], capture_output=True, text=True, env=env_rank1,
                          timeout=300)
    assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr
