"""``@braid.program`` and ``braid.map`` as they behave under plain CPython."""

from __future__ import annotations

import enum
import functools
import inspect
import itertools
import operator
from dataclasses import dataclass, field

import numpy as np

from .symbolic import SymExpr, Symbol, _frames, solve_for
from .dtypes import ArrayType, DType

__all__ = ["program", "map", "ProgramInfo", "program_info", "StorageType", "ScheduleType", "define_local",
           "define_local_scalar", "ndarray"]


def _numpy_dtype(dtype):
    return dtype.dtype if isinstance(dtype, DType) else np.dtype(dtype)


def define_local(shape, dtype):
    """DaCe's ``define_local([N, M], dace.float64)``: a new uninitialized array (``np.empty``)."""
    return np.empty(tuple(shape) if isinstance(shape, (list, tuple)) else shape, dtype=_numpy_dtype(dtype))


def define_local_scalar(dtype):
    """DaCe's ``define_local_scalar(dace.uint32)``: a scalar of the dtype, to be assigned before use."""
    return _numpy_dtype(dtype).type(0)


def ndarray(shape, dtype=np.float64, *args, **kwargs):
    """DaCe's ``dace.ndarray(shape, dtype)``: a new uninitialized array (``np.empty``)."""
    return np.empty(shape, dtype=_numpy_dtype(dtype), *args, **kwargs)


class StorageType(enum.Enum):
    """Where an array lives (DaCe's names): ``float64[N] @ StorageType.CPU_Heap``. Accepted for
    compatibility; every target places its containers itself, so the results never depend on it."""

    Default = "Default"
    Register = "Register"
    CPU_Heap = "CPU_Heap"
    CPU_Pinned = "CPU_Pinned"
    CPU_ThreadLocal = "CPU_ThreadLocal"
    GPU_Global = "GPU_Global"
    GPU_Shared = "GPU_Shared"
    FPGA_Global = "FPGA_Global"
    FPGA_Local = "FPGA_Local"
    FPGA_Registers = "FPGA_Registers"
    FPGA_ShiftRegister = "FPGA_ShiftRegister"


class ScheduleType(enum.Enum):
    """How a map runs (DaCe's names): ``for i in map[0:N] @ ScheduleType.Sequential``. A hint
    only: under CPython every map runs sequentially, in order."""

    Default = "Default"
    Sequential = "Sequential"
    CPU_Multicore = "CPU_Multicore"
    GPU_Device = "GPU_Device"
    GPU_ThreadBlock = "GPU_ThreadBlock"
    FPGA_Device = "FPGA_Device"
    Unrolled = "Unrolled"


@dataclass
class ProgramInfo:
    """What ``@program`` learned from a function's annotations (resolved on first call)."""

    name: str
    params: dict[str, object] = field(default_factory=dict)  # parameter -> ArrayType | DType
    symbols: set[str] = field(default_factory=set)  # every symbol the program may bind
    options: dict[str, object] = field(default_factory=dict)  # decorator arguments (ignored)


def _resolve(func, options) -> ProgramInfo:
    try:
        annotations = inspect.get_annotations(func, eval_str=True)
    except Exception:  # an annotation that is not ours and does not evaluate: keep the raw ones
        annotations = dict(getattr(func, "__annotations__", {}))
    info = ProgramInfo(name=func.__qualname__, options=dict(options))
    for pname in inspect.signature(func).parameters:
        ann = annotations.get(pname)
        if isinstance(ann, (ArrayType, DType)):
            info.params[pname] = ann
            if isinstance(ann, ArrayType):
                info.symbols |= ann.symbols
        elif isinstance(ann, SymExpr):  # ``n: N`` — a scalar that is the symbol's value
            info.params[pname] = ann
            info.symbols |= ann.free_symbols()
    for value in getattr(func, "__globals__", {}).values():
        if isinstance(value, Symbol):
            info.symbols.add(value.name)
    return info


def _bind_symbols(info: ProgramInfo, arguments: dict[str, object], symbol_kwargs: dict[str, object]) -> dict[str, int]:
    fname = info.name
    env: dict[str, int] = {}
    source: dict[str, str] = {}

    def assign(name: str, value: int, why: str) -> None:
        if name in env and env[name] != value:
            raise ValueError(
                f"{fname}(): symbol {name} is {env[name]} (from {source[name]}) but {why} gives {name} = {value}"
            )
        if name not in env:
            env[name] = value
            source[name] = why

    for name, value in symbol_kwargs.items():
        try:
            ivalue = operator.index(value)
        except TypeError:
            raise TypeError(f"{fname}(): symbol {name} must be an integer, got {value!r}") from None
        assign(name, ivalue, f"keyword argument {name}={ivalue}")

    # Integer scalar parameters named like a symbol (``TSTEPS: int64`` with symbol TSTEPS),
    # or annotated with a symbol (``n: N``), give the symbol its value.
    for pname, ann in info.params.items():
        if pname not in arguments:
            continue
        value = arguments[pname]
        target = None
        if isinstance(ann, Symbol):
            target = ann.name
        elif isinstance(ann, DType) and pname in info.symbols:
            target = pname
        if target is not None:
            try:
                assign(target, operator.index(value), f"argument {pname}={value!r}")
            except TypeError:
                pass

    # Array shapes: each dimension is a constraint ``expr == size``.
    constraints: list[tuple[object, int, str]] = []
    for pname, ann in info.params.items():
        if not isinstance(ann, ArrayType) or pname not in arguments:
            continue
        value = arguments[pname]
        shape = np.shape(value)
        if len(shape) != ann.ndim:
            raise ValueError(
                f"{fname}(): argument {pname} is declared {ann!r} ({ann.ndim}-D) but got an array of shape "
                f"{tuple(shape)} ({len(shape)}-D)"
            )
        for axis, (dim, size) in enumerate(zip(ann.shape, shape)):
            if dim is not None:
                constraints.append((dim, int(size), f"{pname}.shape[{axis}] = {size} ({pname}: {ann!r})"))

    pending = constraints
    while pending:
        progress = False
        still: list[tuple[object, int, str]] = []
        for dim, size, why in pending:
            if not isinstance(dim, SymExpr):
                if dim != size:
                    raise ValueError(f"{fname}(): {why}, expected {dim}")
                progress = True
                continue
            free = dim.free_symbols() - env.keys()
            if not free:
                expected = dim.evaluate(env)
                if expected != size:
                    explain = ", ".join(f"{s} = {env[s]} (from {source[s]})" for s in sorted(dim.free_symbols()))
                    if isinstance(dim, Symbol):
                        raise ValueError(f"{fname}(): {why}, but {explain}")
                    raise ValueError(f"{fname}(): {why}, but {dim!r} = {expected} with {explain}")
                progress = True
            elif len(free) == 1:
                (name,) = free
                value = solve_for(dim, name, size, env)
                if value is None:
                    still.append((dim, size, why))
                else:
                    assign(name, value, why)
                    progress = True
            else:
                still.append((dim, size, why))
        pending = still
        if not progress:
            break
    if pending:
        dim, size, why = pending[0]
        missing = sorted(dim.free_symbols() - env.keys())
        raise ValueError(
            f"{fname}(): cannot determine {', '.join(missing)} from {why}; pass it as a keyword argument "
            f"({missing[0]}=...)"
        )
    return env


def _concrete(value):
    """A result with every symbol in it (``return N``, ``max(N, M)``) replaced by its integer
    value while the call's bindings are in place: a symbol is an ``int`` inside the program."""
    if isinstance(value, SymExpr):
        return value.get()
    if type(value) in (tuple, list):
        return type(value)(_concrete(v) for v in value)
    return value


def _wrap(func, options):
    signature = inspect.signature(func)
    accepts_var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
    cache: list[ProgramInfo] = []

    @functools.wraps(func)
    def call(*args, **kwargs):
        if not cache:
            cache.append(_resolve(func, options))
        info = cache[0]
        symbol_kwargs = {}
        for key in list(kwargs):
            if key not in signature.parameters and key in info.symbols:
                symbol_kwargs[key] = kwargs.pop(key)
            elif key not in signature.parameters and not accepts_var_kw:
                raise TypeError(
                    f"{info.name}() got an unexpected keyword argument {key!r} "
                    f"(not a parameter, nor one of its symbols: {', '.join(sorted(info.symbols)) or 'none'})"
                )
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        env = _bind_symbols(info, bound.arguments, symbol_kwargs)
        frames = _frames()
        frames.append(env)
        try:
            return _concrete(func(*args, **kwargs))
        finally:
            frames.pop()

    call.__braid_program__ = True
    call.__signature__ = signature
    return call


def program(*args, **options):
    """Mark a function as a Braid program: ``@program`` or ``@program(auto_optimize=True)``.

    Under CPython the function runs as written. At each call the symbols of its
    annotations are bound from the shapes of its array arguments (a dimension ``N``
    binds N; ``N + 4`` binds N to the size minus 4), from integer parameters named like
    a symbol, and from keyword arguments ``f(A=a, N=5)``; inconsistent sizes raise
    ``ValueError``. While the call runs, symbols behave like their integer values.
    Decorator options are accepted for compatibility and ignored here.
    """
    if len(args) == 1 and callable(args[0]) and not options:
        return _wrap(args[0], {})
    if args:
        raise TypeError("program() takes a function, or keyword options only: @program(auto_optimize=True)")
    return lambda func: _wrap(func, options)


def program_info(func) -> ProgramInfo:
    """The resolved annotations of a ``@program`` function (for tools and tests)."""
    target = getattr(func, "__wrapped__", func)
    return _resolve(target, {})


class MapRange:
    """The iteration space of ``braid.map[0:N, 0:M]``: iterating visits it sequentially, in order."""

    __slots__ = ("ranges",)

    def __init__(self, ranges: tuple[range, ...]):
        self.ranges = ranges

    def __iter__(self):
        if len(self.ranges) == 1:
            return iter(self.ranges[0])
        return itertools.product(*self.ranges)

    def __len__(self) -> int:
        n = 1
        for r in self.ranges:
            n *= len(r)
        return n

    def __matmul__(self, schedule):  # ``map[...] @ schedule`` (DaCe style): the schedule is a hint
        if not isinstance(schedule, ScheduleType):
            raise TypeError(f"{self!r} @ {schedule!r}: the right-hand side must be a ScheduleType member")
        return self

    def __repr__(self) -> str:
        dims = ", ".join(f"{r.start}:{r.stop}" + (f":{r.step}" if r.step != 1 else "") for r in self.ranges)
        return f"map[{dims}]"


class _MapFactory:
    """``braid.map[0:N, 0:M]``: an explicitly parallel iteration space (sequential under CPython)."""

    def __getitem__(self, key) -> MapRange:
        if not isinstance(key, tuple):
            key = (key,)
        ranges = []
        for item in key:
            if not isinstance(item, slice):
                raise TypeError(f"braid.map takes ranges like map[0:N, 0:M], got {item!r}")
            if item.stop is None:
                raise TypeError("braid.map needs an upper bound in every range (map[0:N])")
            start = 0 if item.start is None else operator.index(item.start)
            step = 1 if item.step is None else operator.index(item.step)
            ranges.append(range(start, operator.index(item.stop), step))
        return MapRange(tuple(ranges))

    def __repr__(self) -> str:
        return "braid.map"


map = _MapFactory()
