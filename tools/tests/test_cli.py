"""The `braid` command as a user meets it: exit codes, diagnostics, outputs, the cache, and
the generated module's argument checking."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from test_corpus import braid_binary

REPO = Path(__file__).resolve().parents[2]


def run(*args, cwd=None):
    return subprocess.run([str(braid_binary()), *map(str, args)], capture_output=True, text=True, cwd=cwd)


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def load(path):
    spec = importlib.util.spec_from_file_location(path.name.split(".")[0], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_help_exits_zero():
    r = run("--help")
    assert r.returncode == 0
    assert "braid build" in r.stdout or "build" in r.stdout


@pytest.mark.parametrize("args", [[], ["build"], ["build", "x.py", "--target", "gpu"], ["build", "x.py", "--bogus"],
                                  ["frobnicate"]])
def test_misuse_exits_two_with_usage(args):
    r = run(*args)
    assert r.returncode == 2, r.stderr
    assert "Usage" in r.stderr or "usage" in r.stderr.lower()


def test_syntax_error_is_located(tmp_path):
    f = write(tmp_path, "bad.py", "import numpy as np\n#pythran export f(float64[:])\ndef f(x:\n    return x\n")
    r = run("build", f, "-o", tmp_path)
    assert r.returncode == 1
    assert f"{f}:3:" in r.stderr and "error: Python syntax error" in r.stderr


def test_unsupported_construct_is_located(tmp_path):
    f = write(tmp_path, "lam.py", "import numpy as np\n#pythran export f(float64[:])\ndef f(x):\n    g = lambda v: v\n    return x\n")
    r = run("build", f, "-o", tmp_path)
    assert r.returncode == 1
    assert f"{f}:4:9: error: unsupported expression 'Lambda'" in r.stderr


def test_unknown_numpy_function_is_located(tmp_path):
    f = write(tmp_path, "fft.py", "import numpy as np\n#pythran export f(float64[:])\ndef f(x):\n    return np.fft.fft(x)\n")
    r = run("build", f, "-o", tmp_path)
    assert r.returncode == 1
    assert f"{f}:4:" in r.stderr and "not supported" in r.stderr


def test_emit_ir_and_c(tmp_path):
    src = REPO / "corpus/kernels/arc_distance.py"
    ir = run("build", src, "--emit", "ir")
    assert ir.returncode == 0 and "program arc_distance(" in ir.stdout
    c = run("build", src, "--emit", "c")
    assert c.returncode == 0 and "#pragma omp parallel for" in c.stdout


def test_rebuild_from_cache(tmp_path):
    src = REPO / "corpus/kernels/arc_distance.py"
    first = run("build", src, "-o", tmp_path)
    assert first.returncode == 0, first.stderr
    second = run("build", src, "-o", tmp_path)
    assert second.returncode == 0 and "(cached)" in second.stdout


def test_edited_file_is_rebuilt_and_unchanged_one_comes_from_the_cache(tmp_path):
    f = write(tmp_path, "edit.py", "import numpy as np\n\ndef f(x):\n    return x * 2.0\n")
    out = tmp_path / "out"
    first = run("build", f, "-o", out, "--signature", "f(float64[:])")
    assert first.returncode == 0 and "(cached)" not in first.stdout, first.stderr
    again = run("build", f, "-o", out, "--signature", "f(float64[:])")
    assert again.returncode == 0 and "(cached)" in again.stdout
    assert load(out / "edit.abi3.so").f(np.ones(3))[0] == 2.0
    # Another signature or an edit must not be served the old module.
    f.write_text("import numpy as np\n\ndef f(x):\n    return x * 3.0\n")
    edited = run("build", f, "-o", out, "--signature", "f(float64[:])")
    assert edited.returncode == 0 and "(cached)" not in edited.stdout
    other = run("build", f, "-o", tmp_path / "o2", "--signature", "f(float32[:])")
    assert other.returncode == 0 and "(cached)" not in other.stdout
    assert load(tmp_path / "o2" / "edit.abi3.so").f(np.ones(3, np.float32)).dtype == np.float32


def test_signature_option_and_module_argument_checks(tmp_path):
    f = write(tmp_path, "plain.py", "import numpy as np\n\ndef scale(x, a):\n    return np.sqrt(x * a)\n")
    r = run("build", f, "-o", tmp_path, "--signature", "scale(float64[:], float)")
    assert r.returncode == 0, r.stderr
    mod = load(tmp_path / "plain.abi3.so")
    x = np.linspace(0.0, 4.0, 9)
    np.testing.assert_allclose(mod.scale(x, 2.0), np.sqrt(x * 2.0), rtol=1e-12)
    np.testing.assert_allclose(mod.scale(a=3.0, x=x), np.sqrt(x * 3.0), rtol=1e-12)
    with pytest.raises(TypeError, match="x"):
        mod.scale(x.astype(np.int32), 2.0)
    with pytest.raises(ValueError):
        mod.scale(np.ones((2, 2)), 2.0)
    with pytest.raises(TypeError):
        mod.scale(x)


def test_symbol_keywords_checked_against_shapes(tmp_path):
    f = write(tmp_path, "sym.py", (
        "import numpy as np\nimport braid as br\nN = br.symbol('N')\n\n"
        "@br.program\ndef twice(A: br.float64[N], B: br.float64[N]):\n    B[:] = 2.0 * A\n"))
    assert run("build", f, "-o", tmp_path).returncode == 0
    mod = load(tmp_path / "sym.abi3.so")
    a, b = np.arange(5.0), np.zeros(5)
    mod.twice(A=a, B=b, N=5)
    np.testing.assert_array_equal(b, 2.0 * a)
    with pytest.raises(ValueError):
        mod.twice(A=a, B=b, N=4)
    with pytest.raises(ValueError):
        mod.twice(a, np.zeros(6))
    with pytest.raises(ValueError):
        mod.twice(a, np.zeros(10)[::2])  # not contiguous
    ro = np.zeros(5)
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="B"):
        mod.twice(a, ro)


def test_compare_command_runs_the_main_job():
    r = run("compare", REPO / "corpus/stencils/jacobi_2d.py", "--preset", "tiny", "--repeat", "1")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK" in r.stdout


def test_features_lists_registry():
    r = run("features")
    assert r.returncode == 0
    assert "`np.sum`" in r.stdout and "`np.exp`" in r.stdout


def test_parameters_named_like_c_identifiers_keep_their_python_names(tmp_path):
    f = write(tmp_path, "cnames.py", (
        "import numpy as np\n#pythran export f(float64[:], float)\n"
        "def f(I, double):\n    return I * double\n"))
    assert run("build", f, "-o", tmp_path).returncode == 0
    mod = load(tmp_path / "cnames.abi3.so")
    np.testing.assert_array_equal(mod.f(I=np.ones(3), double=2.0), np.full(3, 2.0))


def test_readme_feature_table_is_the_registry():
    readme = (REPO / "README.md").read_text()
    begin, end = "<!-- braid features: begin -->\n", "<!-- braid features: end -->"
    table = readme[readme.index(begin) + len(begin):readme.index(end)]
    assert table == run("features").stdout, "regenerate the README table with `braid features`"
