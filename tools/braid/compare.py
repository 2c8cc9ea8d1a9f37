"""Run an annotated program under CPython/NumPy and as a Braid-compiled module; compare and time.

Command line::

    python3 -m braid.compare FILE.py --module-dir DIR [--preset tiny|default] [--size N=1000 ...]
                             [--repeat K] [--rtol X] [--atol Y] [--json]

FILE.py starts with a header of comment lines::

    # braid: entry=gemm
    # braid: preset tiny NI=7 NJ=9 NK=5
    # braid: preset default NI=400 NJ=450 NK=500
    # braid: tolerance rtol=1e-5 atol=1e-8
    # braid: why <why the kernel's own numerics need a looser tolerance>
    # braid: targets cpu mpi opencl hls

Two optional lines record what the compiler cannot do yet (the corpus tests read them)::

    # braid: expect-error <construct>   the build must fail cleanly with FILE:LINE:COL: error: ...
    # braid: known-wrong <what differs> the build succeeds but the results are wrong (expected failure)

and defines ``initialize(**sizes)`` returning the keyword arguments of the entry function.
DIR holds the compiled extension module of the same stem (``<stem>.abi3.so`` or ``<stem>.*.so``).

The reference (the file run as plain Python) and the compiled function each get a deep copy
of the inputs; their return values and every array argument afterwards (in-place outputs)
must agree: same shapes and dtypes, integers and booleans exactly, floating point within
``np.isclose(braid, reference, rtol, atol)``. Then both are timed (median of K calls, fresh
inputs copied outside the timed region). Exit status: 0 all match, 1 a mismatch or a failed
compiled call, 2 a usage or setup error.

Under MPI (``mpiexec -n P python3 -m braid.compare ...``) every rank runs and checks both;
rank 0 prints the table, other ranks print only their mismatches.

As a library: ``compare_file(path, module_dir, preset="tiny") -> CompareResult``.
"""

from __future__ import annotations

import argparse
import copy
import gc
import hashlib
import importlib.machinery
import importlib.util
import json
import math
import os
import re
import statistics
import sys
import sysconfig
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Sequence

import numpy as np

__all__ = [
    "TARGETS",
    "DEFAULT_RTOL",
    "DEFAULT_ATOL",
    "Header",
    "HeaderError",
    "OutputCheck",
    "CompareResult",
    "parse_header",
    "load_reference",
    "find_extension",
    "load_extension",
    "compare_values",
    "weak_scalar_hint",
    "compare_file",
    "format_table",
    "main",
]

TARGETS = ("cpu", "mpi", "opencl", "hls")
DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-8


# ======================================================================================
# Header


class HeaderError(ValueError):
    """The ``# braid:`` header of a program file is missing something or malformed."""


@dataclass
class Header:
    """The ``# braid:`` lines at the top of a program file."""

    path: Path
    entry: str
    presets: dict[str, dict[str, int | float]]
    targets: list[str]
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    why: str | None = None
    tolerance_given: bool = False
    expect_error: str | None = None
    known_wrong: str | None = None

    @property
    def loosened(self) -> bool:
        """Whether the tolerance is looser than the default (which then needs a ``why`` line)."""
        return self.rtol > DEFAULT_RTOL or self.atol > DEFAULT_ATOL

    def sizes(self, preset: str) -> dict[str, int | float]:
        try:
            return dict(self.presets[preset])
        except KeyError:
            known = ", ".join(self.presets) or "none"
            raise HeaderError(f"{self.path}: no preset {preset!r} (has: {known})") from None


_HEADER_LINE = re.compile(r"^#\s*braid:\s*([\w-]+)\s*(.*?)\s*$")
_KEY_VALUE = re.compile(r"^([A-Za-z_]\w*)=(\S+)$")


def _number(text: str) -> int | float:
    try:
        return int(text, 0)
    except ValueError:
        return float(text)


def parse_header(path: str | os.PathLike) -> Header:
    """Read the ``# braid:`` lines of the leading comment block of ``path``."""
    path = Path(path)
    entry = None
    presets: dict[str, dict[str, int | float]] = {}
    targets: list[str] | None = None
    rtol, atol, why, tolerance_given = DEFAULT_RTOL, DEFAULT_ATOL, None, False
    expect_error: str | None = None
    known_wrong: str | None = None
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("#"):
            break
        m = _HEADER_LINE.match(line)
        if not m:
            continue
        key, rest = m.group(1), m.group(2)
        where = f"{path}:{lineno}"
        if key.startswith("entry"):
            m2 = re.match(r"^entry\s*=\s*([A-Za-z_]\w*)$", f"{key}{rest}".replace(" ", ""))
            if not m2:
                raise HeaderError(f"{where}: expected '# braid: entry=FUNCTION', got {raw!r}")
            entry = m2.group(1)
        elif key == "preset":
            words = rest.split()
            if not words:
                raise HeaderError(f"{where}: expected '# braid: preset NAME K=V ...'")
            name, values = words[0], {}
            for word in words[1:]:
                kv = _KEY_VALUE.match(word)
                if not kv:
                    raise HeaderError(f"{where}: preset value must be NAME=NUMBER, got {word!r}")
                try:
                    values[kv.group(1)] = _number(kv.group(2))
                except ValueError:
                    raise HeaderError(f"{where}: {kv.group(1)} must be a number, got {kv.group(2)!r}") from None
            if name in presets:
                raise HeaderError(f"{where}: preset {name!r} given twice")
            presets[name] = values
        elif key == "tolerance":
            tolerance_given = True
            for word in rest.split():
                kv = _KEY_VALUE.match(word)
                if not kv or kv.group(1) not in ("rtol", "atol"):
                    raise HeaderError(f"{where}: expected '# braid: tolerance rtol=X atol=Y', got {word!r}")
                try:
                    value = float(kv.group(2))
                except ValueError:
                    raise HeaderError(f"{where}: {kv.group(1)} must be a number, got {kv.group(2)!r}") from None
                if kv.group(1) == "rtol":
                    rtol = value
                else:
                    atol = value
        elif key == "targets":
            targets = rest.split()
            unknown = [t for t in targets if t not in TARGETS]
            if unknown or not targets:
                raise HeaderError(
                    f"{where}: unknown target(s) {', '.join(unknown) or '(none given)'}; known: {' '.join(TARGETS)}"
                )
        elif key == "why":
            why = f"{why} {rest}" if why else rest
        elif key in ("expect-error", "known-wrong"):
            if not rest:
                raise HeaderError(f"{where}: '# braid: {key}' needs a short reason")
            if key == "expect-error":
                expect_error = f"{expect_error}; {rest}" if expect_error else rest
            else:
                known_wrong = f"{known_wrong}; {rest}" if known_wrong else rest
        else:
            raise HeaderError(
                f"{where}: unknown header key {key!r} (entry, preset, tolerance, targets, why, expect-error, known-wrong)"
            )
    if entry is None:
        raise HeaderError(f"{path}: no '# braid: entry=FUNCTION' line in the leading comments")
    if targets is None:
        targets = ["cpu"]
    if expect_error is not None and known_wrong is not None:
        raise HeaderError(f"{path}: a program is either expect-error (does not build) or known-wrong (builds), not both")
    return Header(path, entry, presets, targets, rtol, atol, why, tolerance_given, expect_error, known_wrong)


# ======================================================================================
# Loading


def load_reference(path: str | os.PathLike) -> ModuleType:
    """Import a program file as a plain Python module (``dace`` resolves to braid if absent)."""
    from . import install_dace_alias

    install_dace_alias()
    path = Path(path).resolve()
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    name = f"_braid_reference_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def find_extension(module_dir: str | os.PathLike, stem: str) -> Path:
    """The compiled module for ``stem`` in ``module_dir``: ``stem.abi3.so``, else ``stem.*.so``."""
    module_dir = Path(module_dir)
    preferred = [module_dir / f"{stem}.abi3.so", module_dir / f"{stem}{sysconfig.get_config_var('EXT_SUFFIX')}"]
    for candidate in preferred:
        if candidate.is_file():
            return candidate
    matches = sorted(p for p in module_dir.glob(f"{stem}.*so") if p.is_file()) if module_dir.is_dir() else []
    if not matches and (module_dir / f"{stem}.so").is_file():
        matches = [module_dir / f"{stem}.so"]
    if matches:
        return matches[0]
    if not module_dir.is_dir():
        raise FileNotFoundError(f"module directory {module_dir} does not exist")
    present = ", ".join(sorted(p.name for p in module_dir.iterdir())) or "nothing"
    raise FileNotFoundError(f"no compiled module {stem}.abi3.so or {stem}.*.so in {module_dir} (it has: {present})")


def load_extension(path: str | os.PathLike, name: str | None = None) -> ModuleType:
    """Load an extension module from a file without installing it in ``sys.modules``."""
    path = Path(path).resolve()
    name = name or path.name.split(".", 1)[0]
    loader = importlib.machinery.ExtensionFileLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


# ======================================================================================
# Comparing values


@dataclass
class OutputCheck:
    """The comparison of one output: a return value, a tuple element or an array argument."""

    name: str
    ok: bool
    max_abs_err: float = 0.0
    max_rel_err: float = 0.0
    message: str = ""
    shape: tuple | None = None
    dtype: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "max_abs_err": _json_float(self.max_abs_err),
            "max_rel_err": _json_float(self.max_rel_err),
            "message": self.message,
            "shape": list(self.shape) if self.shape is not None else None,
            "dtype": self.dtype,
        }


def _kind(value: object) -> str | None:
    """'b', 'i', 'f' or 'c' for a scalar; None for anything else."""
    if isinstance(value, (bool, np.bool_)):
        return "b"
    if isinstance(value, (int, np.integer)):
        return "i"
    if isinstance(value, (float, np.floating)):
        return "f"
    if isinstance(value, (complex, np.complexfloating)):
        return "c"
    return None


_KIND_NAMES = {"b": "bool", "i": "integer", "f": "floating point", "c": "complex"}


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"ndarray of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, np.generic):
        return f"{type(value).__name__} scalar {value!r}"
    if isinstance(value, (tuple, list)):
        return f"{type(value).__name__} of {len(value)} items"
    return f"{type(value).__name__} {value!r}"


def _value_text(value: object) -> str:
    return repr(value.item()) if isinstance(value, np.generic) else repr(value)


def _fmt_index(index: tuple) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _array_check(name: str, ref: np.ndarray, got: np.ndarray, rtol: float, atol: float) -> OutputCheck:
    shape, dtype = tuple(ref.shape), str(ref.dtype)
    if got.shape != ref.shape:
        return OutputCheck(
            name, False, math.inf, math.inf, f"{name}: shape mismatch: reference {ref.shape}, braid {got.shape}", shape, dtype
        )
    if got.dtype != ref.dtype:
        return OutputCheck(
            name,
            False,
            math.inf,
            math.inf,
            f"{name}: dtype mismatch: reference {ref.dtype}, braid {got.dtype}",
            shape,
            dtype,
        )
    if ref.size == 0:
        return OutputCheck(name, True, 0.0, 0.0, "", shape, dtype)
    exact = ref.dtype.kind not in "fc"
    if exact:
        close = got == ref
        if ref.dtype.kind in "iu":
            diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))
        else:
            diff = (~close).astype(np.float64)
        scale = np.abs(ref.astype(np.float64)) if ref.dtype.kind in "iu" else np.ones(ref.shape)
    else:
        wide = np.complex128 if ref.dtype.kind == "c" else np.float64
        r, g = ref.astype(wide), got.astype(wide)
        close = np.isclose(g, r, rtol=rtol, atol=atol, equal_nan=True)
        with np.errstate(invalid="ignore", over="ignore"):
            diff = np.abs(g - r)
        both_nan = np.isnan(r) & np.isnan(g)
        both_same_inf = np.isinf(r) & (g == r)
        diff = np.where(both_nan | both_same_inf, 0.0, diff)
        scale = np.abs(r)
    diff = np.where(np.isnan(diff), np.inf, diff)
    max_abs = float(np.max(diff))
    nonzero = scale > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(nonzero, diff / np.where(nonzero, scale, 1.0), np.where(diff > 0, np.inf, 0.0))
    max_rel = float(np.max(rel))
    if bool(np.all(close)):
        return OutputCheck(name, True, max_abs, max_rel, "", shape, dtype)
    bad = np.argwhere(~close)
    first = tuple(bad[0])
    rule = "exactly" if exact else f"within rtol={rtol:g} atol={atol:g}"
    message = (
        f"{name}: {len(bad)} of {ref.size} elements differ (must agree {rule}); first at index "
        f"{_fmt_index(first)}: reference {_value_text(ref[first])}, braid {_value_text(got[first])}; "
        f"max abs err {max_abs:.3g}, max rel err {max_rel:.3g}"
    )
    return OutputCheck(name, False, max_abs, max_rel, message, shape, dtype)


def _scalar_check(name: str, ref: object, got: object, rtol: float, atol: float) -> OutputCheck:
    rk, gk = _kind(ref), _kind(got)
    if gk is None and isinstance(got, np.ndarray) and got.ndim == 0:
        got = got[()]
        gk = _kind(got)
    if rk != gk:
        return OutputCheck(
            name,
            False,
            math.inf,
            math.inf,
            f"{name}: type mismatch: reference {_KIND_NAMES.get(rk, type(ref).__name__)} ({_describe(ref)}), "
            f"braid {_KIND_NAMES.get(gk, type(got).__name__)} ({_describe(got)})",
        )
    if isinstance(ref, np.generic) and isinstance(got, np.generic) and ref.dtype != got.dtype:
        return OutputCheck(
            name, False, math.inf, math.inf, f"{name}: dtype mismatch: reference {ref.dtype}, braid {got.dtype}"
        )
    check = _array_check(name, np.asarray(ref), np.asarray(got, dtype=np.asarray(ref).dtype), rtol, atol)
    check.shape, check.dtype = None, type(ref).__name__
    if not check.ok:
        rule = "exactly" if rk in "bi" else f"within rtol={rtol:g} atol={atol:g}"
        check.message = f"{name}: reference {_value_text(ref)}, braid {_value_text(got)} (must agree {rule})"
    return check


def weak_scalar_hint(func: Callable, inputs: dict[str, object]) -> str:
    """Why results may differ in dtype: parameters the reference got as Python scalars
    (NumPy treats them as weak: they do not widen arrays) but whose annotation is a NumPy type
    such as ``br.float64`` (compiled as that type, which does widen ``float32`` arrays).
    Empty when no parameter is in that situation."""
    from .dtypes import DType
    from .program import program_info

    try:
        params = program_info(func).params
    except Exception:  # not a @program, or annotations that do not resolve: nothing to say
        return ""
    names = [
        name
        for name, value in inputs.items()
        if isinstance(value, (int, float, complex))
        and not isinstance(value, (bool, np.generic))  # np.float64 is a float subclass, and strong
        and isinstance(params.get(name), DType)
    ]
    if not names:
        return ""
    listed = ", ".join(f"'{n}' ({params[n].name})" for n in names)
    return (
        f"; note: the reference received Python scalars for {listed}: NumPy treats Python scalars as weak "
        "(they do not widen arrays), the compiled function uses the annotated type; annotate them "
        "float/int/complex, or pass NumPy scalars (e.g. np.float64(...)) from initialize()"
    )


def _explain_dtype_mismatches(checks: list[OutputCheck], func: Callable, inputs: dict[str, object]) -> None:
    mismatches = [c for c in checks if not c.ok and "dtype mismatch" in c.message]
    if mismatches:
        hint = weak_scalar_hint(func, inputs)
        for c in mismatches:
            c.message += hint


def compare_values(name: str, ref: object, got: object, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL) -> list[OutputCheck]:
    """Compare a reference value with the compiled one; one check per array or scalar leaf."""
    if ref is None:
        ok = got is None
        return [OutputCheck(name, ok, message="" if ok else f"{name}: reference returns None, braid returned {_describe(got)}")]
    if isinstance(ref, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(ref):
            return [
                OutputCheck(
                    name, False, math.inf, math.inf, f"{name}: reference returns {_describe(ref)}, braid returned {_describe(got)}"
                )
            ]
        checks: list[OutputCheck] = []
        for i, (r, g) in enumerate(zip(ref, got)):
            checks += compare_values(f"{name}[{i}]", r, g, rtol, atol)
        return checks
    if isinstance(ref, np.ndarray) and ref.ndim > 0:
        if not isinstance(got, np.ndarray):
            return [
                OutputCheck(
                    name, False, math.inf, math.inf, f"{name}: reference returns {_describe(ref)}, braid returned {_describe(got)}"
                )
            ]
        return [_array_check(name, ref, got, rtol, atol)]
    if isinstance(ref, np.ndarray):  # 0-d array
        if isinstance(got, np.ndarray) and got.ndim == 0:
            return [_array_check(name, ref, got, rtol, atol)]
        return [_scalar_check(name, ref[()], got, rtol, atol)]
    if _kind(ref) is not None:
        return [_scalar_check(name, ref, got, rtol, atol)]
    ok = bool(ref == got)
    return [OutputCheck(name, ok, message="" if ok else f"{name}: reference {ref!r}, braid {got!r}")]


# ======================================================================================
# Running


@dataclass
class CompareResult:
    """The outcome of running one program both ways."""

    program: str
    file: str
    entry: str
    preset: str
    sizes: dict[str, int | float]
    rtol: float
    atol: float
    module_path: str | None
    checks: list[OutputCheck] = field(default_factory=list)
    error: str | None = None  # the compiled module failed to load, or its call raised
    error_detail: str | None = None  # the traceback of that failure
    reference_time: float | None = None
    braid_time: float | None = None
    repeat: int = 0
    rank: int = 0
    ranks: int = 1

    @property
    def ok(self) -> bool:
        return self.error is None and all(c.ok for c in self.checks)

    @property
    def status(self) -> str:
        return "OK" if self.ok else ("ERROR" if self.error else "MISMATCH")

    @property
    def speedup(self) -> float | None:
        if not self.reference_time or not self.braid_time:
            return None
        return self.reference_time / self.braid_time

    @property
    def max_abs_err(self) -> float:
        return max((c.max_abs_err for c in self.checks), default=0.0)

    @property
    def max_rel_err(self) -> float:
        return max((c.max_rel_err for c in self.checks), default=0.0)

    @property
    def mismatches(self) -> list[OutputCheck]:
        return [c for c in self.checks if not c.ok]

    def messages(self) -> list[str]:
        """One line per problem: the failed call, then each differing output."""
        out = [f"{self.program}: compiled call failed: {self.error}"] if self.error else []
        out += [f"{self.program}: {c.message}" for c in self.mismatches]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "program": self.program,
            "file": self.file,
            "entry": self.entry,
            "preset": self.preset,
            "sizes": self.sizes,
            "rtol": self.rtol,
            "atol": self.atol,
            "module": self.module_path,
            "ok": self.ok,
            "status": self.status,
            "error": self.error,
            "reference_time_s": self.reference_time,
            "braid_time_s": self.braid_time,
            "speedup": self.speedup,
            "repeat": self.repeat,
            "max_abs_err": _json_float(self.max_abs_err),
            "max_rel_err": _json_float(self.max_rel_err),
            "outputs": [c.to_dict() for c in self.checks],
            "rank": self.rank,
            "ranks": self.ranks,
        }


def _json_float(x: float) -> float | str:
    return x if math.isfinite(x) else str(x)


def _time_calls(fn: Callable[..., Any], inputs: dict[str, Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        args = copy.deepcopy(inputs)
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            start = time.perf_counter()
            fn(**args)
            times.append(time.perf_counter() - start)
        finally:
            if gc_was_enabled:
                gc.enable()
        del args
    return statistics.median(times)


def mpi_rank() -> tuple[int, int]:
    """(rank, size) when running under an MPI launcher, else (0, 1)."""
    for rank_var, size_var in (
        ("PMI_RANK", "PMI_SIZE"),
        ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
        ("PMIX_RANK", "PMIX_SIZE"),
    ):
        if rank_var in os.environ:
            try:
                return int(os.environ[rank_var]), int(os.environ.get(size_var, "0")) or 1
            except ValueError:
                pass
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None:
        try:
            return mpi.COMM_WORLD.Get_rank(), mpi.COMM_WORLD.Get_size()
        except Exception:
            pass
    return 0, 1


def compare_file(
    path: str | os.PathLike,
    module_dir: str | os.PathLike | None = None,
    preset: str = "default",
    sizes: dict[str, int | float] | None = None,
    repeat: int = 5,
    rtol: float | None = None,
    atol: float | None = None,
    module: ModuleType | Any | None = None,
) -> CompareResult:
    """Run the program in ``path`` under CPython/NumPy and compiled; compare outputs; time both.

    ``module_dir`` holds the compiled module (found with :func:`find_extension`); or pass an
    already loaded ``module``. ``sizes`` override the preset's. ``repeat=0`` skips timing.
    ``rtol``/``atol`` override the header's tolerance. Errors in the reference or in finding
    the module raise; a failing compiled call is reported in ``result.error``.
    """
    path = Path(path)
    header = parse_header(path)
    run_sizes = header.sizes(preset)
    run_sizes.update(sizes or {})
    rtol = header.rtol if rtol is None else rtol
    atol = header.atol if atol is None else atol

    reference = load_reference(path)
    ref_fn = getattr(reference, header.entry, None)
    if ref_fn is None:
        raise HeaderError(f"{path}: entry function {header.entry!r} is not defined in the file")
    initialize = getattr(reference, "initialize", None)
    if initialize is None:
        raise HeaderError(f"{path}: the file defines no initialize(**sizes) function")

    load_error = None
    if module is None:
        if module_dir is None:
            raise ValueError("compare_file needs module_dir or module")
        ext = find_extension(module_dir, path.stem)
        module_path = str(ext)
        try:
            module = load_extension(ext, path.stem)
        except Exception as exc:  # a module that does not import is Braid's failure, reported like a mismatch
            load_error = (f"cannot import {ext}: {type(exc).__name__}: {exc}", traceback.format_exc())
    else:
        module_path = getattr(module, "__file__", None)

    rank, ranks = mpi_rank()
    result = CompareResult(
        program=path.stem,
        file=str(path),
        entry=header.entry,
        preset=preset,
        sizes=run_sizes,
        rtol=rtol,
        atol=atol,
        module_path=module_path,
        rank=rank,
        ranks=ranks,
    )
    if load_error is not None:
        result.error, result.error_detail = load_error
        return result
    braid_fn = getattr(module, header.entry, None)
    if braid_fn is None:
        names = sorted(n for n in dir(module) if not n.startswith("_"))
        result.error = f"the compiled module has no function {header.entry!r} (it has: {', '.join(names) or 'nothing'})"
        return result

    inputs = initialize(**run_sizes)
    if not isinstance(inputs, dict):
        raise HeaderError(f"{path}: initialize() must return a dict of keyword arguments, got {type(inputs).__name__}")

    ref_args = copy.deepcopy(inputs)
    ref_out = ref_fn(**ref_args)
    braid_args = copy.deepcopy(inputs)
    try:
        braid_out = braid_fn(**braid_args)
    except Exception as exc:  # the compiled call failing is a finding, not a crash of the tool
        result.error = f"{type(exc).__name__}: {exc}"
        result.error_detail = traceback.format_exc()
        return result

    checks = compare_values("return", ref_out, braid_out, rtol, atol)
    for name, value in inputs.items():
        if isinstance(value, np.ndarray):
            checks += compare_values(f"argument {name}", ref_args[name], braid_args[name], rtol, atol)
    _explain_dtype_mismatches(checks, ref_fn, inputs)
    result.checks = checks

    if repeat > 0:
        result.repeat = repeat
        result.reference_time = _time_calls(ref_fn, inputs, repeat)
        try:
            result.braid_time = _time_calls(braid_fn, inputs, repeat)
        except Exception as exc:
            result.error = f"{type(exc).__name__} in a timed call: {exc}"
    return result


# ======================================================================================
# Output


def _fmt_time(t: float | None) -> str:
    if t is None:
        return "-"
    return f"{t:.4f}" if t >= 1e-3 else f"{t:.2e}"


def _fmt_err(x: float) -> str:
    return f"{x:.2e}" if math.isfinite(x) else str(x)


def format_table(results: Sequence[CompareResult]) -> str:
    """The side-by-side table, then one line per problem."""
    header = ["program", "preset", "CPython/NumPy s", "Braid s", "speedup", "max abs err", "max rel err", "status"]
    rows = [header]
    for r in results:
        speedup = r.speedup
        rows.append(
            [
                r.program,
                r.preset,
                _fmt_time(r.reference_time),
                _fmt_time(r.braid_time),
                "-" if speedup is None else f"{speedup:.2f}x",
                _fmt_err(r.max_abs_err) if r.checks else "-",
                _fmt_err(r.max_rel_err) if r.checks else "-",
                r.status,
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for n, row in enumerate(rows):
        cells = [cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    for r in results:
        lines += r.messages()
    return "\n".join(lines)


# ======================================================================================
# Command line


def _size_arg(text: str) -> tuple[str, int | float]:
    m = _KEY_VALUE.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return m.group(1), _number(m.group(2))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{m.group(1)} must be a number, got {m.group(2)!r}") from None


def _rank_prefix(rank: int, ranks: int) -> str:
    return f"[rank {rank}] " if ranks > 1 else ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m braid.compare",
        description="Run annotated programs under CPython/NumPy and as Braid-compiled modules; "
        "check that the results agree and time both.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE.py", help="annotated program(s) with a '# braid:' header")
    parser.add_argument("--module-dir", required=True, help="folder with the compiled <stem>.abi3.so (or <stem>.*.so)")
    parser.add_argument("--preset", default="default", help="input size preset from the header (tiny, default, ...)")
    parser.add_argument("--size", action="append", type=_size_arg, default=[], metavar="NAME=VALUE",
                        help="override one size of the preset (repeatable)")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per side, median reported (0: no timing)")
    parser.add_argument("--rtol", type=float, help="override the header's relative tolerance")
    parser.add_argument("--atol", type=float, help="override the header's absolute tolerance")
    parser.add_argument("--json", action="store_true", help="print a JSON object instead of the table")
    args = parser.parse_args(argv)

    rank, ranks = mpi_rank()
    results: list[CompareResult] = []
    try:
        for file in args.files:
            results.append(
                compare_file(
                    file,
                    args.module_dir,
                    preset=args.preset,
                    sizes=dict(args.size),
                    repeat=max(args.repeat, 0),
                    rtol=args.rtol,
                    atol=args.atol,
                )
            )
    except (HeaderError, FileNotFoundError) as exc:
        print(f"{_rank_prefix(rank, ranks)}braid.compare: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the reference program or its initialize() failed
        traceback.print_exc()
        print(f"{_rank_prefix(rank, ranks)}braid.compare: error: running {file} under CPython failed: "
              f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 2

    ok = all(r.ok for r in results)
    if rank == 0:
        if args.json:
            payload = results[0].to_dict() if len(results) == 1 else {"ok": ok, "results": [r.to_dict() for r in results]}
            print(json.dumps(payload, indent=2))
        else:
            print(format_table(results))
            if ranks > 1:
                print(f"(rank 0 of {ranks}; every rank ran and checked both)")
        if not ok:
            for r in results:
                if r.error_detail:
                    print(r.error_detail, file=sys.stderr, end="")
    elif not ok:
        for r in results:
            for line in r.messages():
                print(f"[rank {rank}] {line}", file=sys.stderr)
    sys.stdout.flush()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
