"""End to end over the corpus: compile each program for each target in its header with the Braid
compiler, run it next to CPython/NumPy at each size preset, and require the same results.

The compiler is `$BRAID`, else `.build/debug/braid` under the repository root; without it these
tests fail (they do not skip). Each (program, target) is built once per session. Targets:
- cpu, hls: the module is loaded in this process and checked with `braid.compare.compare_file`;
- opencl: the same, with `BRAID_OPENCL_DEVICE=cpu` (the CPU OpenCL device);
- mpi: `mpiexec -n 2 python3 -m braid.compare ...` (and `-n 1` once per program) must exit 0.
Set `BRAID_TEST_ISOLATE=1` to check cpu/hls/opencl modules in a subprocess too, so that a
crashing module fails one test instead of ending the session.

Programs the compiler cannot handle yet say so in their header:
- `# braid: expect-error <construct>`: not compared; the cpu build must fail cleanly instead (exit
  status 1, a `FILE:LINE:COL: error: ...` line on stderr, no crash, traceback or C compiler error).
  When the compiler grows the feature this test fails: remove the line to compare the program.
- `# braid: known-wrong <what differs>`: builds but gives wrong results (or crashes); its cases run
  in a subprocess and are strict expected failures, so they fail the suite once they match.
  `# braid: known-wrong default: ...` limits a line to one preset; `tiny?: ...` marks a wrong result
  that shows only sometimes there (e.g. a read of uninitialized memory): a non-strict expected failure.

Tests at the bottom need no compiler: every corpus file has a valid header and its reference
runs deterministically with sane (finite, nonzero) results.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from braid.compare import compare_file, load_reference, parse_header

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools"
CORPUS = REPO / "corpus"
PROGRAMS = sorted(p for p in CORPUS.rglob("*.py") if not p.name.startswith("_"))
PRESETS = ("tiny", "default")
BUILD_TIMEOUT_S = 600
RUN_TIMEOUT_S = 900


def _id(path: Path) -> str:
    return path.stem


@functools.lru_cache(maxsize=None)
def _header(path: Path):
    try:
        return parse_header(path)
    except Exception:  # reported by test_corpus_header
        return None


def _header_targets(path: Path) -> list[str]:
    header = _header(path)
    return header.targets if header is not None else ["cpu"]  # still collect the cpu case


def _expect_error(path: Path) -> str | None:
    header = _header(path)
    return header.expect_error if header is not None else None


_KNOWN_WRONG_LINE = re.compile(r"^#\s*braid:\s*known-wrong\s+(.*?)\s*$")
_PRESET_PREFIX = re.compile(r"^([\w,]+)(\?)?:\s*(.*)$")


@functools.lru_cache(maxsize=None)
def _known_wrong_lines(path: Path) -> tuple[tuple[frozenset[str] | None, bool, str], ...]:
    """(presets or None for all, strict, reason) for each '# braid: known-wrong' line of the header."""
    entries = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            break
        m = _KNOWN_WRONG_LINE.match(line)
        if not m:
            continue
        reason, presets, strict = m.group(1), None, True
        p = _PRESET_PREFIX.match(reason)
        if p and set(p.group(1).split(",")) <= set(PRESETS):
            presets, strict, reason = frozenset(p.group(1).split(",")), p.group(2) is None, p.group(3)
        entries.append((presets, strict, reason))
    return tuple(entries)


def _known_wrong(path: Path, preset: str) -> tuple[str, bool] | None:
    """(reason, strict) when a known-wrong line applies to ``preset``: all presets, unless it starts
    'PRESET[,PRESET]:'; 'PRESET?:' marks a wrong result that shows only sometimes (a non-strict xfail)."""
    for presets, strict, reason in _known_wrong_lines(path):
        if presets is None or preset in presets:
            return reason, strict
    return None


def _case(path: Path, target: str, preset: str):
    known = _known_wrong(path, preset)
    marks = [pytest.mark.xfail(strict=known[1], reason=f"known wrong: {known[0]}")] if known else []
    return pytest.param(path, target, preset, id=f"{path.stem}-{target}-{preset}", marks=marks)


CASES = [
    _case(path, target, preset)
    for path in PROGRAMS
    if _expect_error(path) is None
    for target in _header_targets(path)
    for preset in PRESETS
]
MPI_PROGRAMS = [path for path in PROGRAMS if _expect_error(path) is None and "mpi" in _header_targets(path)]
EXPECT_ERROR_PROGRAMS = [path for path in PROGRAMS if _expect_error(path) is not None]


# --- building -----------------------------------------------------------------------------------


def braid_binary() -> Path:
    given = os.environ.get("BRAID")
    path = Path(given) if given else REPO / ".build" / "debug" / "braid"
    if not (path.is_file() and os.access(path, os.X_OK)):
        how = "the BRAID environment variable points to" if given else "expected the compiler at"
        pytest.fail(
            f"Braid compiler not found: {how} {path}. Build it with `swift build` in {REPO} "
            f"(or set BRAID=/path/to/braid).",
            pytrace=False,
        )
    return path


def _target_env(target: str) -> dict[str, str]:
    env = dict(os.environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([str(TOOLS), *[p for p in paths if p != str(TOOLS)]])
    if target == "opencl":
        env["BRAID_OPENCL_DEVICE"] = "cpu"
    if target == "hls":
        ap_types = REPO / "third_party" / "ap_types"
        if ap_types.is_dir():
            env.setdefault("BRAID_AP_TYPES", str(ap_types))
    return env


# (program, target) -> (module folder, None) or (None, why the build failed); one build per session.
_BUILDS: dict[tuple[Path, str], tuple[Path | None, str | None]] = {}


@pytest.fixture(scope="session")
def build_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("corpus-builds")


def build(path: Path, target: str, root: Path) -> Path:
    """Compile ``path`` for ``target`` (once per session); the folder holding the module."""
    key = (path, target)
    if key not in _BUILDS:
        compiler = braid_binary()
        out = root / f"{path.parent.name}-{path.stem}-{target}"
        out.mkdir(parents=True, exist_ok=True)
        cmd = [str(compiler), "build", str(path), "-o", str(out), "--target", target]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, env=_target_env(target),
                                  timeout=BUILD_TIMEOUT_S, cwd=REPO)
        except subprocess.TimeoutExpired:
            _BUILDS[key] = (None, f"`{' '.join(cmd)}` did not finish in {BUILD_TIMEOUT_S} s")
        else:
            if done.returncode != 0:
                _BUILDS[key] = (None, f"`{' '.join(cmd)}` exited {done.returncode}\n"
                                      f"--- stdout\n{done.stdout}--- stderr\n{done.stderr}")
            else:
                _BUILDS[key] = (out, None)
    out, error = _BUILDS[key]
    if error is not None:
        pytest.fail(f"build failed: {error}", pytrace=False)
    return out


# --- running ------------------------------------------------------------------------------------


def _compare_cli(args: list[str], target: str, launcher: list[str] | None = None) -> subprocess.CompletedProcess:
    cmd = [*(launcher or []), sys.executable, "-m", "braid.compare", *args]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, env=_target_env(target), timeout=RUN_TIMEOUT_S,
                              cwd=REPO)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{' '.join(cmd)}` did not finish in {RUN_TIMEOUT_S} s", pytrace=False)


def run_mpi(path: Path, module_dir: Path, preset: str, ranks: int) -> None:
    mpiexec = shutil.which("mpiexec")
    if mpiexec is None:
        pytest.fail("mpiexec not found: install MPICH (tools/setup.sh does)", pytrace=False)
    args = [str(path), "--module-dir", str(module_dir), "--preset", preset, "--repeat", "0"]
    done = _compare_cli(args, "mpi", launcher=[mpiexec, "-n", str(ranks)])
    assert done.returncode == 0, (
        f"mpiexec -n {ranks} python3 -m braid.compare {' '.join(args)} exited {done.returncode}\n"
        f"--- stdout\n{done.stdout}--- stderr\n{done.stderr}"
    )


@pytest.mark.parametrize("path, target, preset", CASES)
def test_corpus_program(path, target, preset, build_root, monkeypatch):
    module_dir = build(path, target, build_root)
    if target == "mpi":
        run_mpi(path, module_dir, preset, ranks=2)
        return
    if target == "opencl":
        monkeypatch.setenv("BRAID_OPENCL_DEVICE", "cpu")
    if os.environ.get("BRAID_TEST_ISOLATE") == "1" or _known_wrong(path, preset):  # a known-wrong one may crash
        done = _compare_cli([str(path), "--module-dir", str(module_dir), "--preset", preset, "--repeat", "0",
                             "--json"], target)
        assert done.returncode == 0, f"exit {done.returncode}\n--- stdout\n{done.stdout}--- stderr\n{done.stderr}"
        assert json.loads(done.stdout)["ok"]
        return
    result = compare_file(path, module_dir, preset=preset, repeat=0)
    detail = f"\n{result.error_detail}" if result.error_detail else ""
    assert result.ok, "\n".join(result.messages()) + detail


@pytest.mark.parametrize("path", MPI_PROGRAMS, ids=_id)
def test_corpus_mpi_single_rank(path, build_root):
    run_mpi(path, build(path, "mpi", build_root), "tiny", ranks=1)


# Signs that a build failed some other way than with a located compile error.
_UNCLEAN = ("Traceback (most recent call last)", "Fatal error", "Stack dump", "compiler output:", "  command: ")


@pytest.mark.parametrize("path", EXPECT_ERROR_PROGRAMS, ids=_id)
def test_corpus_expected_error(path, build_root):
    """A program the compiler cannot take yet is rejected cleanly, at a source location."""
    compiler = braid_binary()
    out = build_root / f"{path.parent.name}-{path.stem}-expect-error"
    out.mkdir(parents=True, exist_ok=True)
    cmd = [str(compiler), "build", str(path), "-o", str(out), "--target", "cpu"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, env=_target_env("cpu"),
                              timeout=BUILD_TIMEOUT_S, cwd=REPO)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{' '.join(cmd)}` did not finish in {BUILD_TIMEOUT_S} s", pytrace=False)
    shown = f"`{' '.join(cmd)}` exited {done.returncode}\n--- stdout\n{done.stdout}--- stderr\n{done.stderr}"
    if done.returncode == 0:
        pytest.fail(f"{path.name} builds now (expected: {_expect_error(path)}): remove its "
                    f"'# braid: expect-error' line so that it is compared with NumPy\n{shown}", pytrace=False)
    assert done.returncode == 1, f"expected exit status 1 (a compile error), got a crash or misuse\n{shown}"
    located = re.compile(rf"^{re.escape(str(path))}:\d+:\d+: error: \S", re.MULTILINE)
    assert located.search(done.stderr), f"no '{path}:LINE:COL: error: ...' line on stderr\n{shown}"
    unclean = [sign for sign in _UNCLEAN if sign in done.stderr or sign in done.stdout]
    assert not unclean, f"the build failed uncleanly ({', '.join(map(repr, unclean))})\n{shown}"


# --- the corpus itself (no compiler needed) ----------------------------------------------------------


def test_corpus_is_present():
    assert len(PROGRAMS) >= 12, f"expected the corpus under {CORPUS}"


@pytest.mark.parametrize("path", PROGRAMS, ids=_id)
def test_corpus_header(path):
    header = parse_header(path)
    assert header.entry == path.stem, "by convention the entry function is named like its file"
    if header.expect_error is not None:
        assert header.targets == ["cpu"], "an expect-error program is built for cpu only until it builds"
    assert {"tiny", "default"} <= set(header.presets), "every program has a tiny and a default preset"
    assert "cpu" in header.targets
    if header.loosened:
        assert header.why, "a tolerance looser than rtol=1e-5 atol=1e-8 needs a '# braid: why' line"
    text = path.read_text()
    dialects = [
        "import dace" in text,
        "import braid" in text,
        f"#pythran export {header.entry}(" in text,
    ]
    assert sum(dialects) == 1, "a program uses exactly one annotation dialect"


def _leaves(value) -> list[np.ndarray]:
    if value is None:
        return []
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [np.asarray(value)]


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("path", PROGRAMS, ids=_id)
def test_corpus_reference_is_deterministic_and_sane(path, preset):
    header = parse_header(path)
    module = load_reference(path)
    sizes = header.sizes(preset)
    inputs = module.initialize(**sizes)
    again = module.initialize(**sizes)
    assert inputs.keys() == again.keys()
    for name, value in inputs.items():
        assert np.array_equal(value, again[name]), f"initialize() is not deterministic for {name}"
    args = copy.deepcopy(inputs)
    outputs = _leaves(getattr(module, header.entry)(**args))
    outputs += [v for k, v in args.items() if isinstance(v, np.ndarray) and not np.array_equal(v, inputs[k])]
    assert outputs, "the program neither returns a value nor writes an argument"
    for out in outputs:
        assert out.size > 0
        if out.dtype.kind in "fc":
            assert np.all(np.isfinite(out)), "reference output has NaN or inf"
        assert np.any(out != 0), "reference output is all zeros"
