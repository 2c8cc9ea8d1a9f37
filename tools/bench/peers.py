#!/usr/bin/env python3
"""Braid against CPython/NumPy and the peers (Numba, Pythran, DaCe), side by side, per corpus program.

Usage (from the repository root; ``tools/bench/run.sh`` wraps this and ``setup``)::

    tools/bench/run.sh setup                       # venvs: .venv (Numba, Pythran), .venv-dace (DaCe 1.0.2)
    python3 tools/bench/peers.py calibrate         # sizes.json: default preset scaled until NumPy >= 0.1 s
    python3 tools/bench/peers.py run               # every program, every tool -> results/*.json + peers-report.md
    python3 tools/bench/peers.py run --programs gemm jacobi_2d --tools numpy braid numba --repeat 3
    python3 tools/bench/peers.py report results/X.json   # rebuild the markdown from a results file
    python3 tools/bench/peers.py stream            # STREAM triad bandwidth of this machine

Every (program, tool) pair runs in a fresh worker process (``peers.py worker ...``) that builds the
tool's version, runs the file's entry under CPython/NumPy and under the tool on the same inputs,
checks the tool's outputs against NumPy's (the corpus header's tolerance, else rtol 1e-5 atol 1e-8;
a tool whose result differs is WRONG and not timed), then times NumPy and the tool in that same
process (median of --repeat calls after a warm-up, inputs copied outside the timed region). The
speedup of a tool is NumPy's median over the tool's, both from its own worker. DaCe workers run
under the DaCe virtual environment's Python (DaCe 1.0.2 needs numpy<2).
"""

from __future__ import annotations

import argparse
import ast
import copy
import datetime
import gc
import importlib.util
import inspect
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "tools" / "bench"
sys.path.insert(0, str(ROOT / "tools"))

VENV_PY = BENCH / ".venv" / "bin" / "python"
DACE_PY = BENCH / ".venv-dace" / "bin" / "python"
SIZES_JSON = BENCH / "sizes.json"
RESULTS = BENCH / "results"
WORK = BENCH / ".work"
REPORT = BENCH / "peers-report.md"
TOOLS = ("numpy", "braid", "numba", "pythran", "dace")
PEERS = ("numba", "pythran", "dace")
MARK = "PEERS-RESULT "

# Programs whose kernels are elementwise or stencils: their achieved bandwidth is reported as
# (array inputs read + outputs written, once per time step) / Braid's time, against STREAM triad.
BANDWIDTH_PROGRAMS = {
    "hdiff", "jacobi_2d", "vadv", "wave_periodic", "go_fast", "arc_distance", "sobel", "game_of_life",
    "clipping", "jacobi_1d", "heat_3d", "fdtd_2d", "softmax", "layernorm_gelu",
}
STEP_SYMBOLS = ("TSTEPS", "STEPS", "TMAX")  # a time-stepped stencil sweeps its arrays once per step
# Sizes that are not problem sizes (kernel widths, counts of tiny dimensions) are left alone: only
# integer symbols >= SCALE_MIN are scaled by calibration.
SCALE_MIN = 8
NO_SCALE = {"maxiter"}  # an iteration cap changes the result (escape counts), not only the work


# ======================================================================================
# Corpus


def corpus_programs() -> list[Path]:
    """Every corpus program that is expected to build (no ``expect-error`` line)."""
    from braid.compare import parse_header

    out = []
    for path in sorted((ROOT / "corpus").glob("*/*.py")):
        if parse_header(path).expect_error is None:
            out.append(path)
    return out


def rel(path: Path) -> str:
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def select(programs: list[Path], names: list[str] | None) -> list[Path]:
    if not names:
        return programs
    chosen = [p for p in programs if p.stem in names or rel(p) in names]
    missing = set(names) - {p.stem for p in chosen} - {rel(p) for p in chosen}
    if missing:
        sys.exit(f"peers.py: no buildable corpus program named {', '.join(sorted(missing))}")
    return chosen


# ======================================================================================
# Worker side: building each tool's version of a program


class Skip(Exception):
    """The tool does not apply to this source (reported with the reason, not as a failure)."""


class CompileFail(Exception):
    """The tool failed to compile this source (reported with a one-line reason)."""


_ANSI = __import__("re").compile(r"\x1b\[[0-9;]*m")
_TELLING = ("Unknown attribute", "Untyped global name", "Use of unsupported", "Cannot determine Numba type",
            "Cannot unify", "not supported", "Unsupported", "unsupported", "CRITICAL")


def one_line(text: str, limit: int = 240) -> str:
    lines = [_ANSI.sub("", l).strip() for l in str(text).strip().splitlines()]
    lines = [l for l in lines if l]
    for l in lines:
        if l.startswith(">>> "):  # Numba: the signature it has no implementation for
            return f"no Numba implementation of {l[4:]}"[:limit]
    for i, l in enumerate(lines):
        if l.startswith("CRITICAL") and i + 1 < len(lines):  # Pythran: a joke, then what is wrong
            return " ".join(lines[i:i + 3])[:limit]
    for l in lines:
        if " error: " in l and "functor::" in l:  # Pythran: the C++ of a NumPy call does not instantiate
            fns = __import__("re").findall(r"(numpy|builtins)::functor::(\w+)", l)
            if fns:
                fn = ".".join(fns[0]).replace("builtins.", "")
                return f"C++ compile error: no Pythran overload of {fn} for these argument types ({l[:120]}...)"[:limit]
    for i, l in enumerate(lines):
        if l.startswith("encountered in File"):  # DaCe: the message, then where
            where = __import__("re").sub(r'File ".*/', 'File "', l)
            return f"{' '.join(lines[:i])} ({where})"[:limit]
    for l in lines:
        if any(t in l for t in _TELLING):
            return l[:limit]
    # Prefer a line that says what went wrong over the last line of a traceback or a log.
    for l in lines:
        if (__import__("re").search(r"\berror\b", l.lower()) and not l.lower().startswith("traceback")
                and not l.startswith('File "')):
            return l[:limit]
    return (lines[-1] if lines else "(no message)")[:limit]


_DTYPE_ATTRS = {
    "bool_": "bool_", "bool": "bool_", "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
    "uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "uint64": "uint64", "float16": "float16",
    "float32": "float32", "float64": "float64", "complex64": "complex64", "complex128": "complex128",
}


def plain_source(path: Path, entry: str, tool: str) -> str:
    """The program as plain Python for Numba or Pythran.

    The data-centric dialects (``import dace as dc`` / ``import braid as br``) become plain functions:
    decorators and annotations go, each symbol is bound at the top of the function from the shape of
    an argument declared with it, ``dc.map[0:N, 0:M]`` loops become nested ``range`` loops (the
    outermost one ``prange`` for Numba, ``#omp parallel for`` for Pythran), ``dc.float64`` becomes
    ``np.float64``. Anything else of the dialect raises Skip with the construct named.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases: set[str] = set()
    symbols: set[str] = set()
    body = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Import) and any(a.name in ("dace", "braid") for a in stmt.names):
            for a in stmt.names:
                if a.name in ("dace", "braid"):
                    aliases.add(a.asname or a.name)
            continue
        if isinstance(stmt, ast.ImportFrom) and stmt.module in ("dace", "braid"):
            raise Skip(f"line {stmt.lineno}: 'from {stmt.module} import ...' is not translated")
        if (
            isinstance(stmt, ast.Assign)
            and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Attribute)
            and isinstance(stmt.value.func.value, ast.Name)
            and stmt.value.func.value.id in aliases
            and stmt.value.func.attr == "symbol"
        ):
            for t in stmt.targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        symbols.add(n.id)
            continue
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "initialize":
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
            continue  # module docstring
        body.append(stmt)
    tree.body = body

    def is_alias_attr(node, attr=None):
        return (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and (attr is None or node.attr == attr)
        )

    marker = "_PEERS_OMP_PARALLEL_FOR_"

    class MapLoops(ast.NodeTransformer):
        def visit_For(self, node):
            self.generic_visit(node)
            it = node.iter
            if not (isinstance(it, ast.Subscript) and is_alias_attr(it.value, "map")):
                return node
            key = it.slice
            ranges = list(key.elts) if isinstance(key, ast.Tuple) else [key]
            targets = list(node.target.elts) if isinstance(node.target, ast.Tuple) else [node.target]
            if len(ranges) != len(targets) or not all(isinstance(r, ast.Slice) for r in ranges):
                raise Skip(f"line {node.lineno}: map with {len(targets)} indices over {len(ranges)} ranges")
            loop_body = node.body
            for depth in range(len(ranges) - 1, -1, -1):
                r = ranges[depth]
                args = [r.lower or ast.Constant(0), r.upper] + ([r.step] if r.step else [])
                fname = "_prange" if (depth == 0 and tool == "numba") else "range"
                loop = ast.For(
                    target=targets[depth],
                    iter=ast.Call(func=ast.Name(fname, ast.Load()), args=args, keywords=[]),
                    body=loop_body,
                    orelse=[],
                )
                loop_body = [loop]
            if tool == "pythran":
                return [ast.Expr(ast.Name(marker, ast.Load())), loop_body[0]]
            return loop_body[0]

    tree = MapLoops().visit(tree)

    class Dtypes(ast.NodeTransformer):
        def visit_Attribute(self, node):
            self.generic_visit(node)
            if is_alias_attr(node) and node.attr in _DTYPE_ATTRS:
                return ast.Attribute(ast.Name("np", ast.Load()), _DTYPE_ATTRS[node.attr], ast.Load())
            return node

    funcs: dict[str, tuple] = {}
    for stmt in tree.body:
        if not isinstance(stmt, ast.FunctionDef):
            continue
        for dec in stmt.decorator_list:
            names = {n.id for n in ast.walk(dec) if isinstance(n, ast.Name)}
            if not names & aliases:
                raise Skip(f"line {dec.lineno}: decorator {ast.unparse(dec)} is not translated")
        stmt.decorator_list = []
        bound: set[str] = set()
        bindings: list[str] = []
        params = stmt.args.posonlyargs + stmt.args.args + stmt.args.kwonlyargs
        for a in params:
            if a.arg in symbols:
                bound.add(a.arg)
        for a in params:
            ann = a.annotation
            if isinstance(ann, ast.Name) and ann.id in symbols and ann.id not in bound:
                bindings.append(f"{ann.id} = {a.arg}")
                bound.add(ann.id)
            if isinstance(ann, ast.Subscript) and is_alias_attr(ann.value):
                dims = list(ann.slice.elts) if isinstance(ann.slice, ast.Tuple) else [ann.slice]
                for k, d in enumerate(dims):
                    if isinstance(d, ast.Name) and d.id in symbols and d.id not in bound:
                        bindings.append(f"{d.id} = {a.arg}.shape[{k}]")
                        bound.add(d.id)
                    elif (
                        isinstance(d, ast.BinOp)
                        and isinstance(d.op, (ast.Add, ast.Sub))
                        and isinstance(d.left, ast.Name)
                        and d.left.id in symbols
                        and d.left.id not in bound
                        and isinstance(d.right, ast.Constant)
                    ):
                        sign = "-" if isinstance(d.op, ast.Add) else "+"
                        bindings.append(f"{d.left.id} = {a.arg}.shape[{k}] {sign} {d.right.value}")
                        bound.add(d.left.id)
            a.annotation = None
        stmt.returns = None
        used = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        calls = {n.func.id for n in ast.walk(stmt) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        funcs[stmt.name] = (stmt, bound, used & symbols, calls)
        doc = 1 if (stmt.body and isinstance(stmt.body[0], ast.Expr) and isinstance(stmt.body[0].value, ast.Constant)) else 0
        stmt.body[doc:doc] = [ast.parse(b).body[0] for b in bindings]
        if tool == "numba":
            stmt.decorator_list = [ast.Name("_JIT", ast.Load())]
    # A helper without annotations that uses a symbol gets it as an extra trailing parameter,
    # passed by every caller (to a fixed point: helpers of helpers).
    need = {name: set(direct) - bound for name, (_, bound, direct, _) in funcs.items()}
    for _ in range(len(funcs) + 1):
        changed = False
        for name, (_, bound, direct, calls) in funcs.items():
            new = set(need[name])
            for callee in calls & funcs.keys():
                new |= need[callee] - bound
            if new != need[name]:
                need[name], changed = new, True
        if not changed:
            break
    if need.get(entry):
        raise Skip(f"{entry}: symbol(s) {', '.join(sorted(need[entry]))} not given by any argument's shape")
    for name, (stmt, _, _, _) in funcs.items():
        if name != entry:
            stmt.args.args += [ast.arg(arg=sym) for sym in sorted(need[name])]
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and need.get(node.func.id):
                if node.func.id == entry:
                    raise Skip(f"{name} calls the entry {entry}")
                node.args += [ast.Name(sym, ast.Load()) for sym in sorted(need[node.func.id])]
    tree = Dtypes().visit(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in aliases:
            parent_attr = next(
                (p.attr for p in ast.walk(tree) if isinstance(p, ast.Attribute) and p.value is node), "?"
            )
            raise Skip(f"uses {node.id}.{parent_attr} of the data-centric dialect (not translated)")
    ast.fix_missing_locations(tree)
    text = ast.unparse(tree)
    if tool == "pythran":
        lines = []
        for line in text.splitlines():
            if line.strip() == marker:
                lines.append(line.replace(marker, "#omp parallel for"))
            else:
                lines.append(line)
        text = "\n".join(lines)
    head = "import numpy as np\n"
    if tool == "numba":
        head += "from numba import prange as _prange\n"
    return head + text + "\n"


def pythran_type(value) -> str:
    import numpy as np

    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            raise Skip("0-d array argument")
        name = "bool" if value.dtype == np.bool_ else str(value.dtype)
        dims = ",".join(":" for _ in range(value.ndim))
        return f"{name}[{dims}]"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, np.generic):
        return str(value.dtype)
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, complex):
        return "complex"
    raise Skip(f"argument of type {type(value).__name__} has no Pythran export type")


def load_module_from_text(name: str, text: str, namespace: dict) -> dict:
    code = compile(text, f"<{name}>", "exec")
    ns = dict(namespace)
    ns["__name__"] = name
    exec(code, ns)
    return ns


def run_cmd(cmd: list[str], cwd=None, env=None, timeout=900) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    return time.perf_counter() - start, proc


# ======================================================================================
# Worker side: running, checking, timing


def normalize(ref, got):
    """Calling-convention differences only: a 1-element array where NumPy returns a scalar."""
    import numpy as np

    if isinstance(ref, (tuple, list)) and isinstance(got, (tuple, list)) and len(ref) == len(got):
        return type(got)(normalize(r, g) for r, g in zip(ref, got))
    if not isinstance(ref, np.ndarray) and isinstance(got, np.ndarray) and got.size == 1 and ref is not None:
        return got.reshape(())[()]
    return got


def check(ref_out, ref_args, out, args, inputs, rtol, atol):
    import numpy as np
    from braid.compare import compare_values

    checks = compare_values("return", ref_out, normalize(ref_out, out), rtol, atol)
    for name, value in inputs.items():
        if isinstance(value, np.ndarray):
            checks += compare_values(f"argument {name}", ref_args[name], args[name], rtol, atol)
    bad = [c for c in checks if not c.ok]
    max_rel = max((c.max_rel_err for c in checks), default=0.0)
    return (bad[0].message if bad else None), max_rel


def time_calls(call, inputs, repeat):
    times = []
    for _ in range(repeat):
        args = copy.deepcopy(inputs)
        was = gc.isenabled()
        gc.disable()
        try:
            t0 = time.perf_counter()
            call(args)
            times.append(time.perf_counter() - t0)
        finally:
            if was:
                gc.enable()
        del args
    return times


def bytes_moved(inputs, ref_args, ref_out) -> int:
    """Array bytes read (every array input) plus written (returned arrays, modified array arguments)."""
    import numpy as np

    total = sum(v.nbytes for v in inputs.values() if isinstance(v, np.ndarray))
    for name, v in inputs.items():
        if isinstance(v, np.ndarray) and not np.array_equal(v, ref_args[name], equal_nan=v.dtype.kind in "fc"):
            total += v.nbytes
    outs = ref_out if isinstance(ref_out, (tuple, list)) else [ref_out]
    total += sum(o.nbytes for o in outs if isinstance(o, np.ndarray))
    return int(total)


def build_tool(tool, path, header, ref_module, inputs, order, work: Path, opts, sizes) -> list[tuple[str, object, float | None, dict]]:
    """Candidates (variant, call(args), compile seconds or None, extra) for one tool."""
    entry = header.entry
    stem = path.stem
    if tool == "numpy":
        fn = getattr(ref_module, entry)
        return [("numpy", lambda a: fn(**a), 0.0, {})]

    if tool == "braid":
        braid = opts.braid
        out = work / "braid"
        out.mkdir(parents=True, exist_ok=True)
        t, proc = run_cmd([braid, "build", str(path), "-o", str(out)])
        if proc.returncode != 0:
            raise CompileFail(one_line(proc.stderr or proc.stdout))
        extra = {}
        if opts.compile_repeat > 0:
            nocache = []
            for _ in range(opts.compile_repeat):
                t, proc = run_cmd([braid, "build", "--no-cache", str(path), "-o", str(out)])
                if proc.returncode != 0:
                    raise CompileFail(one_line(proc.stderr or proc.stdout))
                nocache.append(t)
            t_cached, proc = run_cmd([braid, "build", str(path), "-o", str(out)])
            extra = {"compile_nocache_s": statistics.median(nocache), "compile_nocache_all": nocache,
                     "compile_cached_s": t_cached}
        from braid.compare import find_extension, load_extension

        module = load_extension(find_extension(out, stem), stem)
        fn = getattr(module, entry)
        candidates = [("braid", lambda a: fn(**a), extra.get("compile_nocache_s", t), extra)]
        # The same module on one thread (omp_set_num_threads on the calling thread): shows what the
        # parallel regions cost or gain, e.g. on a loaded machine. Reported beside, never as Braid's time.
        try:
            import ctypes

            gomp = ctypes.CDLL("libgomp.so.1")
            threads = int(os.environ.get("OMP_NUM_THREADS", "0") or 0) or (os.cpu_count() or 1)

            def one_thread(a):
                gomp.omp_set_num_threads(1)
                try:
                    return fn(**a)
                finally:
                    gomp.omp_set_num_threads(threads)

            candidates.append(("braid 1 thread", one_thread, None, {}))
        except OSError:
            pass
        return candidates

    if tool == "numba":
        import numba

        text = plain_source(path, entry, "numba")
        (work / f"{stem}_numba.py").write_text(text)
        out = []
        for variant, jit in (("parallel", numba.njit(parallel=True)), ("njit", numba.njit)):
            ns = load_module_from_text(f"{stem}_numba_{variant}", text, {"_JIT": jit})
            fn = ns[entry]
            out.append((f"njit(parallel=True)" if variant == "parallel" else "njit", lambda a, fn=fn: fn(**a), None, {}))
        return out

    if tool == "pythran":
        text = plain_source(path, entry, "pythran")
        types = ", ".join(pythran_type(inputs[k]) for k in order)
        mod = f"{stem}_pythran"
        src = work / f"{mod}.py"
        src.write_text(f"#pythran export {entry}({types})\n" + text)
        pythran = str(Path(sys.executable).parent / "pythran")
        t, proc = run_cmd([pythran, "-O3", "-fopenmp", "-march=native", "-o", str(work / f"{mod}.so"), str(src)],
                          cwd=work)
        if proc.returncode != 0:
            raise CompileFail(one_line(proc.stderr or proc.stdout))
        from braid.compare import load_extension

        fn = getattr(load_extension(work / f"{mod}.so", mod), entry)
        return [("pythran", lambda a: fn(*[a[k] for k in order]), t, {})]

    if tool == "dace":
        import dace

        saved = sys.modules.get("braid")
        sys.modules["braid"] = dace  # the braid dialect names the same things as DaCe's
        try:
            spec = importlib.util.spec_from_file_location(f"_peers_dace_{stem}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        except Exception as exc:
            raise CompileFail(f"loading the source with DaCe: {type(exc).__name__}: {one_line(str(exc))}")
        finally:
            if saved is not None:
                sys.modules["braid"] = saved
        from dace.transformation.auto.auto_optimize import auto_optimize

        obj = getattr(module, entry)
        f = getattr(obj, "f", obj)
        # As NPBench does: the program's SDFG, auto_optimize for CPU, compiled once; the timed call
        # is the compiled SDFG's (arguments plus symbol values), without the per-call argument analysis.
        prog = dace.program(f)
        t0 = time.perf_counter()
        sdfg = prog.to_sdfg(**copy.deepcopy(inputs)) if not getattr(f, "__annotations__", None) else prog.to_sdfg()
        sdfg = auto_optimize(sdfg, dace.DeviceType.CPU)
        exe = sdfg.compile()
        compile_s = time.perf_counter() - t0
        names = list(sdfg.arglist().keys())
        missing = [n for n in names if n not in inputs and n not in sizes and not n.startswith("__return")]
        callbacks = [n for n in missing if callable(getattr(module, n, None))]
        if callbacks:
            raise CompileFail(f"DaCe keeps {', '.join(callbacks)} as a Python callback (it does not parse it)")
        if missing:
            raise CompileFail(f"the compiled SDFG wants {', '.join(missing)}, which are neither inputs nor sizes")
        consts = {n: sizes[n] for n in names if n not in inputs and n in sizes}
        return [("dace auto_optimize", lambda a: exe(**a, **consts), compile_s, {})]
    raise ValueError(tool)


def worker(opts) -> dict:
    import numpy as np
    import braid
    from braid.compare import load_reference, parse_header

    path = Path(opts.file).resolve()
    header = parse_header(path)
    sizes = json.loads(opts.sizes)
    rtol, atol = header.rtol, header.atol
    work = Path(opts.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    os.chdir(work)
    result = {"tool": opts.tool, "program": path.stem, "file": rel(path), "sizes": sizes, "rtol": rtol, "atol": atol,
              "numpy_version": np.__version__, "python": sys.executable}

    # The reference: the file as plain Python, `dace` resolving to braid's CPython semantics.
    if opts.tool == "dace":
        sys.modules["dace"] = braid
    ref_module = load_reference(path)
    if opts.tool == "dace":
        del sys.modules["dace"]
    ref_fn = getattr(ref_module, header.entry)
    inputs = ref_module.initialize(**sizes)
    target = inspect.unwrap(ref_fn)
    order = [p for p in inspect.signature(target).parameters if p in inputs]
    ref_args = copy.deepcopy(inputs)
    t0 = time.perf_counter()
    ref_out = ref_fn(**ref_args)
    result["numpy_first_s"] = time.perf_counter() - t0
    result["bytes_once"] = bytes_moved(inputs, ref_args, ref_out)
    result["steps"] = int(np.prod([sizes[s] for s in STEP_SYMBOLS if s in sizes])) if any(s in sizes for s in STEP_SYMBOLS) else 1

    try:
        t0 = time.perf_counter()
        candidates = build_tool(opts.tool, path, header, ref_module, inputs, order, work, opts, sizes)
        build_s = time.perf_counter() - t0
    except Skip as exc:
        result.update(status="SKIP", reason=str(exc))
        return result
    except CompileFail as exc:
        result.update(status="COMPILE_FAIL", reason=str(exc))
        return result
    except Exception as exc:
        result.update(status="COMPILE_FAIL", reason=f"{type(exc).__name__}: {one_line(str(exc))}")
        return result

    variants = []
    for name, call, compile_s, extra in candidates:
        v = {"variant": name, **extra}
        args = copy.deepcopy(inputs)
        try:
            t0 = time.perf_counter()
            out = call(args)  # the first call: JIT compilation for Numba and DaCe, and the warm-up
            v["first_call_s"] = time.perf_counter() - t0
        except Exception as exc:
            msg = f"{type(exc).__name__}: {one_line(str(exc))}"
            v.update(status="COMPILE_FAIL" if compile_s is None else "ERROR", reason=msg.replace("\n", " "))
            variants.append(v)
            continue
        problem, max_rel = check(ref_out, ref_args, out, args, inputs, rtol, atol)
        v["max_rel_err"] = max_rel if math.isfinite(max_rel) else str(max_rel)
        if problem:
            v.update(status="WRONG", reason=problem.replace(", braid ", f", {opts.tool} ")[:300])
            variants.append(v)
            continue
        try:
            call(copy.deepcopy(inputs))  # a second warm-up call
            v["times"] = time_calls(call, inputs, opts.repeat)
        except Exception as exc:
            v.update(status="ERROR", reason=f"in a timed call: {type(exc).__name__}: {one_line(str(exc))}")
            variants.append(v)
            continue
        v["time_s"] = statistics.median(v["times"])
        v["compile_s"] = compile_s if compile_s is not None else max(v["first_call_s"] - v["time_s"], 0.0)
        v["status"] = "OK"
        variants.append(v)
    result["variants"] = variants
    result["build_s"] = build_s

    np_times = time_calls(lambda a: ref_fn(**a), inputs, opts.repeat)
    result["numpy_times"] = np_times
    result["numpy_s"] = statistics.median(np_times)
    if opts.tool == "braid" and len(variants) > 1:
        one = variants.pop()  # the one-thread run is a side measurement
        if one.get("status") == "OK":
            result["one_thread_s"] = one["time_s"]
            result["one_thread_speedup"] = statistics.median(np_times) / one["time_s"]
    ok = [v for v in variants if v["status"] == "OK"]
    if ok:
        best = min(ok, key=lambda v: v["time_s"])
        result.update(status="OK", variant=best["variant"], time_s=best["time_s"], compile_s=best["compile_s"],
                      speedup=result["numpy_s"] / best["time_s"])
        for k in ("compile_nocache_s", "compile_cached_s"):
            if k in best:
                result[k] = best[k]
    else:
        order_of_bad = ("WRONG", "ERROR", "COMPILE_FAIL")
        worst = min(variants, key=lambda v: order_of_bad.index(v["status"]))
        reasons = list(dict.fromkeys(v["reason"] for v in variants))
        if len(reasons) == 1:
            reason = reasons[0]
        else:
            reason = "; ".join(f"{v['variant']}: {v['reason']}" for v in variants)
        result.update(status=worst["status"], reason=reason)
    return result


# ======================================================================================
# Orchestrator


def tool_python(tool: str) -> Path:
    if tool == "dace":
        return DACE_PY
    if tool in ("numba", "pythran"):
        return VENV_PY
    return VENV_PY if VENV_PY.exists() else Path(sys.executable)


def tool_env(tool: str) -> dict:
    env = dict(os.environ)
    threads = env.get("PEERS_THREADS", str(os.cpu_count() or 1))
    env.setdefault("OMP_NUM_THREADS", threads)
    env.setdefault("NUMBA_NUM_THREADS", threads)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    py = tool_python(tool)
    env["PATH"] = f"{py.parent}:{env.get('PATH', '')}"  # cmake (DaCe) and pythran from the venv
    if tool == "dace":
        env.setdefault("DACE_compiler_cpu_openmp_sections", "0")
        env.setdefault("DACE_debugprint", "0")
    return env


def run_worker(tool, path: Path, sizes: dict, opts) -> dict:
    py = tool_python(tool)
    base = {"tool": tool, "program": path.stem, "file": rel(path), "sizes": sizes}
    if not py.exists():
        return {**base, "status": "NOT_INSTALLED", "reason": f"{py} missing (run tools/bench/run.sh setup)"}
    work = WORK / tool / path.stem
    if work.exists():
        shutil.rmtree(work, ignore_errors=True)
    cmd = [str(py), str(Path(__file__).resolve()), "worker", "--tool", tool, "--file", str(path),
           "--sizes", json.dumps(sizes), "--repeat", str(opts.repeat), "--work", str(work),
           "--braid", opts.braid, "--compile-repeat", str(opts.compile_repeat)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=opts.timeout, env=tool_env(tool))
    except subprocess.TimeoutExpired:
        return {**base, "status": "TIMEOUT", "reason": f"worker ran past {opts.timeout} s"}
    for line in proc.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    tail = (proc.stderr or proc.stdout or "").strip()
    return {**base, "status": "CRASH", "reason": f"worker exit {proc.returncode}: {one_line(tail)}"}


def load_sizes() -> dict:
    if SIZES_JSON.exists():
        return json.loads(SIZES_JSON.read_text())
    return {}


def sizes_for(path: Path, table: dict, preset: str | None):
    from braid.compare import parse_header

    header = parse_header(path)
    if preset:
        return header.sizes(preset)
    entry = table.get(rel(path))
    return dict(entry["sizes"]) if entry else header.sizes("default")


def numpy_time_once(path: Path, sizes: dict) -> float:
    """One warm NumPy call at these sizes, in a fresh process (so memory is returned)."""
    code = (
        "import sys, json, time, copy; sys.path.insert(0, %r)\n"
        "from braid.compare import load_reference, parse_header\n"
        "p = %r; h = parse_header(p); m = load_reference(p); f = getattr(m, h.entry)\n"
        "inp = m.initialize(**json.loads(%r)); a = copy.deepcopy(inp); f(**a)\n"
        "ts = []\n"
        "for _ in range(2):\n"
        "    a = copy.deepcopy(inp); t0 = time.perf_counter(); f(**a); ts.append(time.perf_counter() - t0)\n"
        "print('T', min(ts))\n"
    ) % (str(ROOT / "tools"), str(path), json.dumps(sizes))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    for line in proc.stdout.splitlines():
        if line.startswith("T "):
            return float(line.split()[1])
    raise RuntimeError(one_line(proc.stderr))


def calibrate(opts) -> None:
    from braid.compare import parse_header

    table = load_sizes()
    for path in select(corpus_programs(), opts.programs):
        default = parse_header(path).sizes("default")
        factor, sizes, t = 1.0, dict(default), None
        for _ in range(12):
            sizes = {k: (max(int(round(v * factor)), v) if isinstance(v, int) and v >= SCALE_MIN and k not in NO_SCALE else v)
                     for k, v in default.items()}
            try:
                t = numpy_time_once(path, sizes)
            except Exception as exc:
                print(f"{path.stem}: NumPy fails at {sizes}: {exc}; keeping the last good size", flush=True)
                break
            good = (factor, sizes, t)
            if t >= opts.target:
                break
            # Grow geometrically; the exponent (how time scales with the sizes) is not known.
            factor *= 2.0 if t < opts.target / 4 else 1.3
        else:
            good = (factor, sizes, t)
        if t is None:
            continue
        factor, sizes, t = good
        while t > opts.max_time and factor > 0.05:  # too slow at the default preset: shrink
            factor *= 0.75
            smaller = {k: (max(int(round(v * factor)), 1) if isinstance(v, int) and v >= SCALE_MIN and k not in NO_SCALE else v)
                       for k, v in default.items()}
            t_small = numpy_time_once(path, smaller)
            if t_small < opts.target:
                break
            sizes, t = smaller, t_small
        table[rel(path)] = {"sizes": sizes, "factor": round(factor, 4), "numpy_s": round(t, 4)}
        print(f"{path.stem:28s} factor {factor:6.3g}  NumPy {t:.3f} s  {sizes}", flush=True)
        SIZES_JSON.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")


STREAM_C = BENCH / "stream_triad.c"


def stream(threads: int = 2) -> dict:
    exe = WORK / "stream_triad"
    WORK.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["gcc", "-O3", "-fopenmp", "-march=native", "-o", str(exe), str(STREAM_C)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": one_line(proc.stderr)}
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OMP_PROC_BIND="spread")
    proc = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=300)
    out = {"threads": threads}
    for line in proc.stdout.splitlines():
        k, _, v = line.partition(" ")
        if k in ("triad_GBps", "triad_best_s", "array_MiB", "n"):
            out[k] = float(v)
    return out


def machine() -> dict:
    info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "python": platform.python_version(), "cores": os.cpu_count()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in lscpu.splitlines():
            k, _, v = line.partition(":")
            if k.strip() in ("Model name", "CPU(s)", "Thread(s) per core", "L3 cache", "L2 cache"):
                info[k.strip()] = v.strip()
    except OSError:
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_GiB"] = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    try:
        import numpy

        info["numpy"] = numpy.__version__
    except ImportError:
        pass
    for tool, mod in (("numba", "numba"), ("pythran", "pythran"), ("dace", "dace")):
        py = tool_python(tool)
        if py.exists():
            v = subprocess.run([str(py), "-c", f"import {mod}, numpy; print({mod}.__version__, numpy.__version__)"],
                               capture_output=True, text=True)
            info[f"{tool}_version"] = v.stdout.strip() or one_line(v.stderr)
    return info


def run(opts) -> None:
    table = load_sizes()
    programs = select(corpus_programs(), opts.programs)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out_path = Path(opts.out) if opts.out else RESULTS / (datetime.datetime.now().strftime("%Y%m%d-%H%M") + ".json")
    data = json.loads(out_path.read_text()) if (opts.resume and out_path.exists()) else {}
    data.setdefault("machine", machine())
    data["shared_machine"] = opts.shared
    data["repeat"] = opts.repeat
    if "stream" not in data or not opts.resume:
        data["stream"] = stream(int(os.environ.get("PEERS_THREADS", os.cpu_count() or 1)))
        print(f"STREAM triad: {data['stream']}", flush=True)
    data.setdefault("programs", {})
    for path in programs:
        sizes = sizes_for(path, table, opts.preset)
        entry = data["programs"].setdefault(rel(path), {"program": path.stem, "sizes": sizes, "tools": {}})
        if entry.get("sizes") != sizes:
            entry.update(sizes=sizes, tools={})
        tools = list(opts.tools)
        if "braid" in tools:  # Braid first: programs Braid does not build are skipped for everyone
            tools.remove("braid")
            tools.insert(0, "braid")
        for tool in tools:
            if opts.resume and tool in entry["tools"] and entry["tools"][tool].get("status") not in opts.redo:
                continue
            if tool != "braid" and entry["tools"].get("braid", {}).get("status") == "COMPILE_FAIL":
                entry["tools"][tool] = {"tool": tool, "status": "SKIP", "reason": "Braid does not build it"}
                continue
            t0 = time.perf_counter()
            r = run_worker(tool, path, sizes, opts)
            r["wall_s"] = time.perf_counter() - t0
            entry["tools"][tool] = r
            shown = f"{r['speedup']:.2f}x" if r.get("speedup") else ""
            print(f"{path.stem:26s} {tool:8s} {r['status']:12s} {shown:>9s}  "
                  f"{(r.get('reason') or '')[:110]}", flush=True)
            out_path.write_text(json.dumps(data, indent=1) + "\n")
    out_path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {rel(out_path)}")
    report([out_path], Path(opts.report))


# ======================================================================================
# Report


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def fx(x, digits=2):
    return "-" if x is None else f"{x:.{digits}f}x"


def cell(r: dict | None) -> str:
    if not r:
        return ""
    s = r.get("status")
    if s == "OK":
        return fx(r["speedup"])
    return {"COMPILE_FAIL": "fail", "WRONG": "WRONG", "SKIP": "skip", "NOT_INSTALLED": "n/i",
            "TIMEOUT": "timeout", "ERROR": "error", "CRASH": "crash"}.get(s, s)


def merge(paths: list[Path]) -> dict:
    """Several results files as one: per program and tool, the later file's pair wins (same sizes)."""
    data: dict = {}
    streams = []
    for path in paths:
        part = json.loads(Path(path).read_text())
        if not data:
            data = {k: v for k, v in part.items() if k != "programs"}
            data["programs"] = {}
        if part.get("stream", {}).get("triad_GBps"):
            streams.append(part["stream"])
        for file, entry in part.get("programs", {}).items():
            have = data["programs"].get(file)
            if have is None or have.get("sizes") != entry.get("sizes"):
                if have is not None and len(have["tools"]) > len(entry["tools"]):
                    continue
                data["programs"][file] = copy.deepcopy(entry)
            else:
                have["tools"].update(entry["tools"])
    if streams:  # the machine's bandwidth: the best triad measured (the others ran beside other work)
        data["stream"] = dict(max(streams, key=lambda st: st["triad_GBps"]))
        data["stream"]["all_GBps"] = [round(st["triad_GBps"], 1) for st in streams]
    data["sources"] = [rel(Path(p)) for p in paths]
    return data


def report(paths: list[Path], out: Path, notes_text: list[str] | None = None) -> None:
    data = merge(paths)
    path = paths[0]
    m = data.get("machine", {})
    st = data.get("stream", {})
    triad = st.get("triad_GBps")
    rows, notes = [], []
    per_tool = {t: [] for t in ("braid",) + PEERS}
    common_braid, common_peer = [], []
    losses = []
    for file, entry in sorted(data["programs"].items(), key=lambda kv: kv[0]):
        tools = entry["tools"]
        np_s = next((tools[t]["numpy_s"] for t in ("braid", "numpy") + PEERS if tools.get(t, {}).get("numpy_s")), None)
        for t in per_tool:
            r = tools.get(t)
            if r and r.get("status") == "OK":
                per_tool[t].append(r["speedup"])
        peers_ok = [(t, tools[t]["speedup"]) for t in PEERS if tools.get(t, {}).get("status") == "OK"]
        best = max(peers_ok, key=lambda x: x[1]) if peers_ok else None
        b = tools.get("braid", {})
        ratio = None
        if best and b.get("status") == "OK":
            ratio = b["speedup"] / best[1]
            common_braid.append(b["speedup"])
            common_peer.append(best[1])
            if ratio < 1:
                losses.append((entry["program"], ratio, best[0], b["speedup"], best[1]))
        bw = ""
        if entry["program"] in BANDWIDTH_PROGRAMS and b.get("status") == "OK" and triad:
            gbps = b["bytes_once"] * b.get("steps", 1) / b["time_s"] / 1e9
            bw = f"{gbps / triad:.2f} ({gbps:.1f} GB/s)"
        comp = ""
        if b.get("compile_nocache_s") is not None:
            comp = f"{b['compile_nocache_s']:.2f} / {b['compile_cached_s']:.2f}"
        size = " ".join(f"{k}={v}" for k, v in entry["sizes"].items())
        rows.append([entry["program"], size, "-" if np_s is None else f"{np_s:.3f}", cell(b), cell(tools.get("numba")),
                     cell(tools.get("pythran")), cell(tools.get("dace")),
                     f"{best[0]} {best[1]:.2f}x" if best else "-", fx(ratio), bw, comp,
                     fx(b.get("one_thread_speedup")) if b.get("one_thread_speedup") else ""])
        for t in ("braid",) + PEERS:
            r = tools.get(t)
            if r and r.get("status") not in ("OK", None) and r.get("reason") and not (
                t != "braid" and r.get("reason") == "Braid does not build it"
            ):
                notes.append(f"- {entry['program']} / {t}: {r['status']}: {r['reason']}")

    lines = ["# Braid against NumPy, Numba, Pythran and DaCe", ""]
    lines.append(
        "Generated by `tools/bench/peers.py` (`tools/bench/run.sh`). Each cell is the tool's speedup over "
        "CPython/NumPy, both timed in the same worker process (median of "
        f"{data.get('repeat')} calls after warm-up calls, fresh input copies outside the timed region); a tool's "
        "result is checked against NumPy's first (the corpus header's tolerance, else rtol 1e-5 atol 1e-8) and a "
        "differing result is WRONG and not timed. Numba is the best of `njit(parallel=True)` and `njit`; Pythran "
        "is `-O3 -fopenmp -march=native`; DaCe is `auto_optimize` on CPU. The data-centric sources are translated "
        "to plain Python for Numba and Pythran (symbols bound from argument shapes, `map` loops as `prange` / "
        "`#omp parallel for` loops). Sizes: `tools/bench/sizes.json` (the `default` preset scaled until NumPy "
        "takes at least 0.1 s). NumPy s is the NumPy median in Braid's worker."
    )
    lines.append("")
    if data.get("shared_machine", True):
        lines.append("**The machine was shared with other engineers' builds during the run**: expect noise of tens "
                     "of percent, more on the multi-threaded tools.")
        lines.append("")
    lines.append("## Machine")
    lines.append("")
    lines.append(f"- CPU: {m.get('Model name', '?')}, {m.get('CPU(s)', m.get('cores'))} CPUs "
                 f"({m.get('Thread(s) per core', '?')} thread(s) per core), L2 {m.get('L2 cache', '?')}, "
                 f"L3 {m.get('L3 cache', '?')}; memory {m.get('memory_GiB', '?')} GiB")
    lines.append(f"- Date: {m.get('date')}; Python {m.get('python')}, NumPy {m.get('numpy')}; "
                 f"Numba {m.get('numba_version', 'n/i')}; Pythran {m.get('pythran_version', 'n/i')}; "
                 f"DaCe {m.get('dace_version', 'n/i')} (version, then the NumPy of its environment)")
    if triad:
        lines.append(f"- STREAM triad ({st.get('threads')} threads, {st.get('array_MiB', 0):.0f} MiB per array): "
                     f"{triad:.1f} GB/s, the best of the measurements "
                     f"{', '.join(str(x) for x in st.get('all_GBps', [round(triad, 1)]))} GB/s"
                     + (" (taken beside other work)" if data.get("shared_machine", True) else ""))
    lines.append("")
    lines.append("## Summary")
    lines.append("")
    lines.append("| tool | programs validated | geomean speedup over NumPy |")
    lines.append("|---|---:|---:|")
    for t, xs in per_tool.items():
        lines.append(f"| {t} | {len(xs)} | {fx(geomean(xs))} |")
    lines.append("")
    gb, gp = geomean(common_braid), geomean(common_peer)
    if gb and gp:
        lines.append(f"Over the {len(common_braid)} programs where Braid and at least one peer validate: Braid "
                     f"{fx(gb)}, best peer per program {fx(gp)}, Braid / best peer = {gb / gp:.2f}.")
        lines.append("")
    lines.append("## Per program")
    lines.append("")
    lines.append("Bandwidth: for elementwise and stencil programs, (array inputs read + outputs written, once per "
                 "time step) / Braid's time, as a fraction of STREAM triad. Braid compile: `braid build --no-cache` "
                 "median of 3 / cached rebuild, seconds. Braid 1 thread: the same module with omp_set_num_threads(1), "
                 "against the same NumPy median (blank where not measured).")
    lines.append("")
    head = ["program", "sizes", "NumPy s", "Braid", "Numba", "Pythran", "DaCe", "best peer", "Braid/best",
            "bandwidth (of triad)", "Braid compile s", "Braid 1 thread"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(["---", "---"] + ["---:"] * (len(head) - 2)) + "|")
    for r in rows:
        lines.append("| " + " | ".join(r) + " |")
    lines.append("")
    wins: dict[str, list[str]] = {}
    below_numpy = []
    compile_nc, compile_c = [], []
    for file, entry in sorted(data["programs"].items()):
        tools = entry["tools"]
        ok = {t: tools[t]["speedup"] for t in ("braid",) + PEERS if tools.get(t, {}).get("status") == "OK"}
        if ok:
            best_tool = max(ok, key=ok.get)
            if ok[best_tool] < 1.0:
                best_tool = "numpy"
            wins.setdefault(best_tool, []).append(entry["program"])
        b = tools.get("braid", {})
        if b.get("status") == "OK" and b["speedup"] < 1.0:
            below_numpy.append((entry["program"], b["speedup"]))
        if b.get("compile_nocache_s") is not None:
            compile_nc.append(b["compile_nocache_s"])
            compile_c.append(b["compile_cached_s"])
    lines.append("## Who is fastest")
    lines.append("")
    lines.append("Per program, the fastest validated tool (NumPy when every validated tool is slower than it):")
    lines.append("")
    for t, progs in sorted(wins.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"- {t} ({len(progs)}): {', '.join(progs)}")
    lines.append("")
    if compile_nc:
        lines.append(f"Braid compile time over {len(compile_nc)} programs: `braid build --no-cache` median "
                     f"{statistics.median(compile_nc):.2f} s (max {max(compile_nc):.2f} s), cached rebuild median "
                     f"{statistics.median(compile_c):.2f} s.")
        lines.append("")
    if below_numpy:
        lines.append("Braid below NumPy: " + ", ".join(f"{p} {x:.2f}x" for p, x in sorted(below_numpy, key=lambda x: x[1]))
                     + ".")
        lines.append("")
    if losses:
        lines.append("## Where Braid loses to the best peer")
        lines.append("")
        for prog, ratio, peer, bs, ps in sorted(losses, key=lambda x: x[1]):
            lines.append(f"- {prog}: Braid {bs:.2f}x vs {peer} {ps:.2f}x (Braid at {ratio:.2f} of it)")
        lines.append("")
    if notes:
        lines.append("## Failures and skips (one line each)")
        lines.append("")
        lines += notes
        lines.append("")
    if notes_text:
        lines.append("## Notes on this run")
        lines.append("")
        lines += [f"- {n}" for n in notes_text]
        lines.append("")
    lines.append("Raw data: " + ", ".join(f"`{p}`" for p in data["sources"]) + ".")
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {rel(out)}")


# ======================================================================================


def main(argv=None):
    ap = argparse.ArgumentParser(prog="peers.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("calibrate", help="scale each default preset until NumPy takes --target seconds")
    c.add_argument("--programs", nargs="*")
    c.add_argument("--target", type=float, default=0.1, help="smallest NumPy time wanted (s)")
    c.add_argument("--max-time", type=float, default=1.0, help="largest NumPy time wanted (s)")
    r = sub.add_parser("run", help="measure every (program, tool) pair; write JSON and the report")
    r.add_argument("--programs", nargs="*", help="program stems or corpus paths (default: all that build)")
    r.add_argument("--tools", nargs="*", default=list(TOOLS[1:]), choices=TOOLS)
    r.add_argument("--repeat", type=int, default=7)
    r.add_argument("--compile-repeat", type=int, default=3, help="braid build --no-cache runs (0: skip)")
    r.add_argument("--preset", help="use this header preset instead of sizes.json (e.g. tiny, default)")
    r.add_argument("--timeout", type=int, default=600, help="seconds per worker")
    r.add_argument("--out", help="results JSON (default results/DATE.json)")
    r.add_argument("--resume", action="store_true", help="keep the pairs already in --out")
    r.add_argument("--redo", nargs="*", default=[], metavar="STATUS",
                   help="with --resume: measure again the pairs with these statuses (e.g. CRASH TIMEOUT)")
    r.add_argument("--report", default=str(REPORT))
    r.add_argument("--not-shared", dest="shared", action="store_false",
                   help="the machine was not shared during the run (drops the note)")
    r.add_argument("--braid", default=os.environ.get("BRAID", str(ROOT / ".build" / "debug" / "braid")))
    p = sub.add_parser("report")
    p.add_argument("results", nargs="+", help="results files, merged in order (a later pair wins)")
    p.add_argument("--note", action="append", default=[], help="a line for the report's notes (repeatable)")
    p.add_argument("--report", default=str(REPORT))
    sub.add_parser("stream")
    w = sub.add_parser("worker")
    w.add_argument("--tool", required=True, choices=TOOLS)
    w.add_argument("--file", required=True)
    w.add_argument("--sizes", required=True)
    w.add_argument("--repeat", type=int, default=7)
    w.add_argument("--work", required=True)
    w.add_argument("--braid", required=True)
    w.add_argument("--compile-repeat", type=int, default=3)
    opts = ap.parse_args(argv)
    if opts.cmd == "calibrate":
        calibrate(opts)
    elif opts.cmd == "run":
        if "braid" in opts.tools:
            opts.braid = str(Path(opts.braid).resolve())
        run(opts)
    elif opts.cmd == "report":
        report([Path(r) for r in opts.results], Path(opts.report), opts.note)
    elif opts.cmd == "stream":
        print(json.dumps(stream(int(os.environ.get("PEERS_THREADS", os.cpu_count() or 1)))))
    elif opts.cmd == "worker":
        try:
            res = worker(opts)
        except Exception as exc:
            traceback.print_exc()
            res = {"tool": opts.tool, "status": "CRASH", "reason": f"{type(exc).__name__}: {one_line(str(exc))}"}
        sys.stdout.flush()
        print(MARK + json.dumps(res, default=str), flush=True)


if __name__ == "__main__":
    main()
