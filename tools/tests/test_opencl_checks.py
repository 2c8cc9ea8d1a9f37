"""Run-time checks on the OpenCL target: indices known only at run time, slice bounds and shape
relations are checked on the host before the kernels that depend on them run; a failed check
raises the same exception as on the CPU target and copies no result back. Also complex numbers
(vectors with helper functions on the device) and arrays whose size depends on data (device
buffers reallocated on the host, returned to Python), both against NumPy. Run on the CPU
OpenCL device (PoCL) in a subprocess, so the device choice is this test's own."""

import os
import subprocess
import sys
import textwrap

import pytest

from test_corpus import braid_binary

# Functions whose run-time checks every target runs (the HLS test uses them too).
CHECKED_SOURCE = '''
import numpy as np

#pythran export pick(float64[:], int)
def pick(x, k):
    y = x * 2.0
    return y[k] + x[-1]

#pythran export pairs(float64[:], float64[:])
def pairs(x, y):
    return x[1:] * y[:-1]

#pythran export gather(float64[:], int64[:])
def gather(x, idx):
    return x[idx] + 1.0
'''

SOURCE = CHECKED_SOURCE + '''
#pythran export cmath(complex128[:], complex128[:])
def cmath(a, b):
    out = np.empty((13, a.shape[0]), dtype=np.complex128)
    out[0] = a * b - a / b
    out[1] = np.abs(a) + np.conj(b)
    out[2] = np.exp(a) + np.log(b)
    out[3] = np.sqrt(a)
    out[4] = np.sin(a) + np.cos(b)
    out[5] = np.tan(a)
    out[6] = np.sinh(a) + np.cosh(b)
    out[7] = np.tanh(a)
    out[8] = a ** b
    out[9] = a ** 3 + a ** -2
    out[10] = a.real - a.imag * 1j
    out[11] = (a == b) + (a != a) * 2.0
    out[12] = np.where(a.real > b.real, a, b)
    return out, np.sum(a * b), np.prod(a)

#pythran export cmath64(complex64[:], complex64[:])
def cmath64(a, b):
    return a * b - a / b + np.exp(a) * np.sqrt(b) + np.abs(a), np.sum(a)

#pythran export positive(complex128[:], float64[:])
def positive(z, x):
    return z[z.real > 0], x[x > 0].mean()
'''

CHECKS = '''
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import ocl_checks as m
x = np.arange(1.0, 6.0)
assert m.pick(x, 2) == 6.0 + 5.0, m.pick(x, 2)
assert m.pick(x, -5) == 2.0 + 5.0
for bad in (5, -6):
    try:
        m.pick(x, bad)
    except IndexError as e:
        assert "out of bounds" in str(e), e
    else:
        raise AssertionError(f"pick({bad}) did not raise")
np.testing.assert_allclose(m.pairs(x, x[::-1].copy()), x[1:] * x[::-1][:-1])
try:
    m.pairs(x, np.ones(3))
except ValueError as e:
    pass
else:
    raise AssertionError("pairs with disagreeing shapes did not raise")
np.testing.assert_allclose(m.gather(x, np.array([4, 0, -1])), x[[4, 0, -1]] + 1.0)
try:
    m.gather(x, np.array([0, 7]))
except IndexError:
    pass
else:
    raise AssertionError("gather out of bounds did not raise")

rng = np.random.default_rng(1)
a = rng.normal(size=9) + 1j * rng.normal(size=9)
b = rng.normal(size=9) + 1j * rng.normal(size=9)
a[0], b[1], b[2], a[3], b[4] = 0, 2, -1, 30 + 1j, a[4]
ref = {}
exec(compile(open(sys.argv[2]).read(), "source", "exec"), ref)
with np.errstate(all="ignore"):
    cases = [("cmath", (a, b)), ("cmath64", (a.astype(np.complex64), b.astype(np.complex64))),
             ("positive", (a, a.imag.copy())), ("positive", (-np.abs(a) + 0j, -np.abs(a.real)))]
    for name, args in cases:
        got, want = getattr(m, name)(*args), ref[name](*args)
        for g, w in zip(got, want):
            g, w = np.asarray(g), np.asarray(w)
            assert g.dtype == w.dtype and g.shape == w.shape, (name, g.dtype, w.dtype, g.shape, w.shape)
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6 if g.dtype == np.complex64 else 1e-8,
                                       equal_nan=True, err_msg=name)
print("OPENCL-CHECKS-OK")
'''


def test_run_time_checks_on_the_opencl_target(tmp_path):
    if not os.path.isdir("/etc/OpenCL/vendors") or not os.listdir("/etc/OpenCL/vendors"):
        pytest.fail("no OpenCL driver installed: tools/setup.sh installs PoCL", pytrace=False)
    src = tmp_path / "ocl_checks.py"
    src.write_text(SOURCE)
    r = subprocess.run([str(braid_binary()), "build", str(src), "-o", str(tmp_path), "--target", "opencl"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, BRAID_OPENCL_DEVICE="cpu")
    run = subprocess.run([sys.executable, "-c", CHECKS, str(tmp_path), str(src)], capture_output=True, text=True,
                         env=env)
    assert run.returncode == 0 and "OPENCL-CHECKS-OK" in run.stdout, run.stdout + run.stderr
