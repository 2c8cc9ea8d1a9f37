"""Large arrays (temporaries and results of 4 MiB and more) come from the module's memory pool:
a block a call frees is handed to a later call. These tests check what a user can observe:
every result is its own writable C-contiguous array with the right values, results alive at the
same time never share storage, a result outlives the calls after it, and concurrent calls from
several threads do not mix their arrays."""

import subprocess
import sys
import threading

import numpy as np
import pytest

from test_numpy_surface import build_pair

SOURCE = '''
import numpy as np

#pythran export chain(float64[:,:], float64)
def chain(a, s):
    t = np.exp(a * 0.5)
    u = t[::-1, :] + s
    return u * t

#pythran export positive(float64[:])
def positive(x):
    return x[x > 0.0]
'''

ROWS, COLS = 1024, 640  # 5 MiB of float64: above the pool's 4 MiB threshold


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return build_pair(tmp_path_factory.mktemp("pool"), "pool", SOURCE)


def inputs(seed):
    return np.random.default_rng(seed).standard_normal((ROWS, COLS))


def test_large_results_are_independent_writable_arrays(pair):
    compiled, reference = pair
    a, b = inputs(1), inputs(2)
    r1 = compiled.chain(a, 1.0)
    r2 = compiled.chain(b, 2.0)  # r1 is alive: r2 must get other storage
    np.testing.assert_allclose(r1, reference.chain(a, 1.0), rtol=1e-12)
    np.testing.assert_allclose(r2, reference.chain(b, 2.0), rtol=1e-12)
    assert not np.shares_memory(r1, r2)
    for r in (r1, r2):
        assert r.shape == (ROWS, COLS) and r.dtype == np.float64
        assert r.flags.c_contiguous and r.flags.writeable and r.flags.aligned
    r1[0, 0] = 123.0
    assert r1[0, 0] == 123.0 and r2[0, 0] != 123.0


def test_a_freed_result_is_reused_and_fully_overwritten(pair):
    compiled, reference = pair
    kept = compiled.chain(inputs(3), 0.25)
    expected = kept.copy()
    for seed in range(4, 10):
        # Each call's result is dropped before the next: its block goes back to the pool and
        # the next call writes every element of it again.
        s = float(seed)
        np.testing.assert_allclose(compiled.chain(inputs(seed), s), reference.chain(inputs(seed), s), rtol=1e-12)
    np.testing.assert_array_equal(kept, expected)


def test_results_survive_their_module_functions_being_called_again(pair):
    compiled, _ = pair
    views = [compiled.chain(inputs(k), 0.0)[10:20, ::3] for k in range(3)]
    fresh = [compiled.chain(inputs(k), 0.0)[10:20, ::3] for k in range(3)]
    for v, f in zip(views, fresh):
        np.testing.assert_array_equal(v, f)


def test_large_selection_result_takes_the_native_storage(pair):
    compiled, reference = pair
    x = np.random.default_rng(5).standard_normal(3_000_000)  # about 1.5M positives: 12 MB
    got = compiled.positive(x)
    np.testing.assert_array_equal(got, reference.positive(x))
    assert got.flags.writeable and got.flags.c_contiguous
    again = compiled.positive(-x)
    np.testing.assert_array_equal(again, reference.positive(-x))
    np.testing.assert_array_equal(got, reference.positive(x))
    assert compiled.positive(np.zeros(10)).shape == (0,)


def test_concurrent_calls_do_not_share_blocks(pair):
    compiled, reference = pair
    seeds = list(range(20, 26))
    expected = {s: reference.chain(inputs(s), float(s)) for s in seeds}
    failures = []

    def work(s):
        for _ in range(3):
            got = compiled.chain(inputs(s), float(s))
            if not np.allclose(got, expected[s], rtol=1e-12, atol=0):
                failures.append(s)

    threads = [threading.Thread(target=work, args=(s,)) for s in seeds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


@pytest.mark.parametrize("budget", ["0", "1000", "junk"])
def test_pool_budget_from_the_environment(pair, budget):
    # BRAID_POOL_BYTES=0 keeps nothing, a budget below the block size keeps nothing, and a value
    # that is not a number leaves the default: the results are the same either way.
    compiled, _ = pair
    code = (
        "import importlib.util, sys, numpy as np\n"
        f"spec = importlib.util.spec_from_file_location('pool', {compiled.__file__!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        f"a = np.random.default_rng(1).standard_normal(({ROWS}, {COLS}))\n"
        "first = m.chain(a, 1.0)\n"
        "for _ in range(3): assert np.array_equal(m.chain(a, 1.0), first)\n"
        "t = np.exp(a * 0.5); assert np.allclose(first, (t[::-1, :] + 1.0) * t, rtol=1e-12)\n"
    )
    env = {"BRAID_POOL_BYTES": budget, "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def _child_call(path, q):
    import importlib.util
    spec = importlib.util.spec_from_file_location("pool", path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    a = inputs(7)
    t = np.exp(a * 0.5)
    q.put(bool(np.allclose(m.chain(a, 3.0), (t[::-1, :] + 3.0) * t, rtol=1e-12)))


def test_forked_children_use_the_pool(pair):
    # Blocks the parent keeps are valid in a forked child, and the child's pool lock is fresh
    # (pthread_atfork), so a child allocates, frees and reuses blocks as the parent does. The
    # parent has run OpenMP regions: GNU libgomp's threads do not survive fork, so the child
    # runs its regions on one thread (with more, this call waited forever).
    import multiprocessing
    compiled, _ = pair
    for k in range(3):
        compiled.chain(inputs(k), 1.0)  # leave blocks in the parent's pool
    ctx = multiprocessing.get_context("fork")
    for _ in range(2):
        q = ctx.Queue()
        child = ctx.Process(target=_child_call, args=(compiled.__file__, q))
        child.start()
        assert q.get(timeout=120) is True
        child.join(timeout=120)
        assert child.exitcode == 0
