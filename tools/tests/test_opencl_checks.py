"""Run-time checks on the OpenCL target: indices known only at run time, slice bounds and shape
relations are checked on the host before the kernels that depend on them run; a failed check
raises the same exception as on the CPU target and copies no result back. Run on the CPU
OpenCL device (PoCL) in a subprocess, so the device choice is this test's own."""

import os
import subprocess
import sys
import textwrap

import pytest

from test_corpus import braid_binary

SOURCE = '''
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
    run = subprocess.run([sys.executable, "-c", CHECKS, str(tmp_path)], capture_output=True, text=True, env=env)
    assert run.returncode == 0 and "OPENCL-CHECKS-OK" in run.stdout, run.stdout + run.stderr
