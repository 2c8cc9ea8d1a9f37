"""Run-time checks on the HLS target: the top function returns 0 or the code of the check that
failed (its AXI4-Lite return register), and the C-simulation module raises NumPy's exception."""

import importlib.util
import subprocess

import numpy as np
import pytest

from test_corpus import braid_binary
from test_opencl_checks import CHECKED_SOURCE


def test_run_time_checks_on_the_hls_target(tmp_path):
    src = tmp_path / "hls_checks.py"
    src.write_text(CHECKED_SOURCE)
    r = subprocess.run([str(braid_binary()), "build", str(src), "-o", str(tmp_path), "--target", "hls"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    hls = (tmp_path / "hls_checks.hls.cpp").read_text()
    assert 'extern "C" int pick_top(' in hls and "return braid_status;" in hls
    spec = importlib.util.spec_from_file_location("hls_checks", next(tmp_path.glob("hls_checks*.so")))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    x = np.arange(1.0, 6.0)
    assert m.pick(x, 2) == 11.0 and m.pick(x, -5) == 7.0
    for bad in (5, -6):
        with pytest.raises(IndexError, match="out of bounds"):
            m.pick(x, bad)
    np.testing.assert_allclose(m.pairs(x, x[::-1].copy()), x[1:] * x[::-1][:-1])
    with pytest.raises(ValueError):
        m.pairs(x, np.ones(3))
    np.testing.assert_allclose(m.gather(x, np.array([4, 0, -1])), x[[4, 0, -1]] + 1.0)
    with pytest.raises(IndexError):
        m.gather(x, np.array([0, 7]))
